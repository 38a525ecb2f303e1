"""What the API reads and writes. Input serializers refuse unknown fields (400).

Input serializers parse types; the input rules of a step are the service layer's
(``services.flow``), and ``input_errors`` turns its ``InvalidInput`` into DRF field errors, worded
by the serializer field's ``error_messages`` where it has one for the error's code.
"""

from __future__ import annotations

import functools
import logging
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.template import TemplateDoesNotExist
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from ..choices import (
    CaseStatus,
    Channel,
    EffectiveMode,
    OfferKind,
    OfferOutcome,
    QuestionKind,
    ReasonCategory,
)
from ..compliance import rules_for
from ..exceptions import InvalidInput
from ..models import CancellationCase, OfferPresentation, Reason, ReasonQuestion, catalogue_cache
from ..models.questions import active_questions
from ..services import flow, questions
from .schema import PhoneNumberField, extend_schema_field

logger = logging.getLogger("django_graceful_cancel")


def input_errors(
    error: InvalidInput, fields: Mapping[str, serializers.Field] | None = None
) -> serializers.ValidationError:
    """The service's field errors as DRF's 400 body ``{"field": ["message"]}``."""
    fields = fields or {}
    detail: dict[str, list[ErrorDetail]] = {}
    for name, found in error.errors.items():
        messages = getattr(fields.get(name), "error_messages", {})
        detail[name] = [
            ErrorDetail(str(messages.get(item.code, item.message)), code=item.code)
            for item in found
        ]
    return serializers.ValidationError(detail)


# --- input -------------------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare, with a field error for each (a typo must not pass)."""

    #: Read by api/schema.py: request bodies say ``additionalProperties: false``.
    refuses_unknown_fields = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


@functools.cache
def _time_zones() -> list[str]:
    return sorted(name for name in zoneinfo.available_timezones() if len(name) <= 64)


def _language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


class StartCaseSerializer(StrictSerializer):
    language = serializers.ChoiceField(
        choices=[],
        required=False,
        help_text=_("Language of the case's messages; the request's language by default."),
    )
    time_zone = serializers.ChoiceField(
        choices=[],
        required=False,
        error_messages={"invalid_choice": _("Unknown time zone.")},
        help_text=_('IANA time zone used for follow-ups, e.g. "Europe/Madrid".'),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read at call time: a host's LANGUAGES may change under override_settings.
        for name, choices in (("language", _language_choices()), ("time_zone", _time_zones())):
            field = self.fields[name]
            assert isinstance(field, serializers.ChoiceField)
            field.choices = choices


class CatalogueChoiceField(serializers.ChoiceField):
    """A slug of the reason catalogue: listed as an enum in the schema; whether a value is an
    active reason is the service's rule (``flow.check_reason``), not the field's."""

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return data


class RecordReasonSerializer(StrictSerializer):
    #: ``flow.check_reason``'s consent rule, for the schema (api/schema.py): with consent, a
    #: channel named in the body that reaches the customer by phone needs a number. (A body that
    #: leaves the channel out keeps the case's, which the same rule then applies to.)
    schema_constraints = [
        {
            "anyOf": [
                {"not": {"required": ["contact_consent"]}},
                {"properties": {"contact_consent": {"enum": [False]}}},
                {"not": {"required": ["preferred_channel"]}},
                {
                    "properties": {
                        "preferred_channel": {"not": {"enum": sorted(flow.PHONE_CHANNELS)}}
                    }
                },
                {"required": ["contact_phone"], "properties": {"contact_phone": {"minLength": 1}}},
            ]
        }
    ]

    reason = CatalogueChoiceField(
        choices=[],
        required=False,
        allow_null=True,
        allow_blank=True,
        error_messages={
            "invalid_choice": _("Unknown reason."),
            "unknown_reason": _("Unknown reason."),
        },
        help_text=_(
            "Slug of an active reason (GET reasons/); null or empty to skip the question. The "
            "schema lists the catalogue as it was when the schema was generated."
        ),
    )
    detail = serializers.CharField(
        max_length=flow.DETAIL_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=_("The reason in the customer's own words."),
    )
    preferred_channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text=_("How the customer wants to hear from us."),
    )
    contact_consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("The customer agrees to follow-up messages."),
    )
    answers = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=_(
            'Answers to the chosen reason\'s follow-up questions (GET reasons/, "questions"), '
            "by question key: a choice's key, a whole number from 0 to 10, or text of at most "
            "the question's max_length characters; null or empty clears an answer, a question "
            "left out keeps its answer. All optional. An error names the field "
            '"answers.<key>".'
        ),
    )
    contact_phone = PhoneNumberField(
        max_length=flow.PHONE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=_(
            "Phone number for SMS, WhatsApp or a call, with its country code (e.g. +34 600 123 "
            "456) unless the site sets a phone region; stored in E.164. Required with consent "
            "when the channel is SMS, WhatsApp or a call."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The active reasons from the cached catalogue (models/catalogue_cache.py): no query.
        try:
            self._reasons = dict(catalogue_cache.active_reasons())
        except DatabaseError:  # only when building the schema offline, before migrations
            self._reasons = {}
        field = self.fields["reason"]
        assert isinstance(field, serializers.ChoiceField)
        field.choices = [(slug, slug) for slug in self._reasons]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The service checks the answer (``flow.check_reason``); ``answer`` is what it returns.

        ``context["case"]``, when given, is the case answered: its channel counts when the
        answer leaves ``preferred_channel`` out.
        """
        fields = dict(attrs)
        if fields.get("reason"):
            # The catalogue is loaded already (the field's choices): hand over the row.
            fields["reason"] = self._reasons.get(fields["reason"], fields["reason"])
        case = self.context.get("case")
        if case is not None:
            fields["current_channel"] = case.preferred_channel
        try:
            attrs["answer"] = flow.check_reason(**fields)
        except InvalidInput as error:
            raise input_errors(error, self.fields) from error
        return attrs


class ConfirmSerializer(StrictSerializer):
    effective = serializers.ChoiceField(
        choices=EffectiveMode.choices,
        required=False,
        help_text=_(
            "When the cancellation takes effect; the case's default (usually the end of the paid "
            "period) when left out."
        ),
    )


class EmptySerializer(StrictSerializer):
    """No fields: send an empty JSON object, or no body at all."""


class QuerySerializer(serializers.Serializer):
    """Query parameters: ours are validated (a bad value is a 400, not an empty answer), others
    (e.g. DRF's ``format``) are left alone."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = {name: data[name] for name in self.fields if name in data}
        return super().to_internal_value(data)


class CaseFilterSerializer(QuerySerializer):
    """Query parameters of GET cases/."""

    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    reason = serializers.SlugField(max_length=64, required=False, help_text=_("Reason slug."))
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, help_text=_("Preferred channel.")
    )
    owner = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text=_("Primary key of the staff member who owns the case (staff only)."),
    )
    created_after = serializers.DateTimeField(
        required=False, help_text=_("Cases started at or after this time (ISO 8601).")
    )
    created_before = serializers.DateTimeField(
        required=False, help_text=_("Cases started before this time (ISO 8601).")
    )
    page = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=200, required=False)


class SummaryQuerySerializer(QuerySerializer):
    start = serializers.DateTimeField(
        required=False, help_text=_("Count cases started at or after this time (ISO 8601).")
    )
    end = serializers.DateTimeField(
        required=False, help_text=_("Count cases started before this time (ISO 8601).")
    )
    # The cohort of the revenue figures ("mrr"); the service checks the values
    # (services/revenue.py: parse_cohort).
    plan = serializers.CharField(
        required=False, help_text=_('Revenue figures for this plan only ("none": no plan).')
    )
    tenure = serializers.CharField(
        required=False,
        help_text=_('Revenue figures for one tenure band: 0-3m, 3-12m, 1-2y, 2y+ or "none".'),
    )
    signup_month = serializers.CharField(
        required=False,
        help_text=_('Revenue figures for subscriptions started that month (YYYY-MM, or "none").'),
    )


# --- output ------------------------------------------------------------------------------------


class QuestionChoiceSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("Stable key: send it as the answer."))
    # The API's "label" field shadows Field.label (the field's own label) on the class.
    label = serializers.CharField(help_text=_("In the request's language."))  # type: ignore[assignment]


class QuestionSerializer(serializers.Serializer):
    """One optional follow-up question of a reason (docs/questions.md)."""

    key = serializers.CharField(help_text=_("Stable key of the question: the key in answers."))
    kind = serializers.ChoiceField(
        choices=QuestionKind.choices,
        help_text=_('"choice": one of choices; "likelihood": 0 to 10; "text": short text.'),
    )
    prompt = serializers.CharField(source="localized_prompt")
    choices = serializers.SerializerMethodField()
    max_length = serializers.IntegerField(
        help_text=_("Longest answer of a text question, in characters.")
    )

    @extend_schema_field(QuestionChoiceSerializer(many=True))
    def get_choices(self, question: ReasonQuestion) -> list[dict[str, str]]:
        return [{"key": key, "label": label} for key, label in question.localized_choices()]


class ReasonSerializer(serializers.Serializer):
    slug = serializers.CharField()
    # The API's "label" field shadows Field.label (the field's own label) on the class.
    label = serializers.CharField(source="localized_label")  # type: ignore[assignment]
    category = serializers.ChoiceField(choices=ReasonCategory.choices)
    follow_up_question = serializers.CharField(source="localized_follow_up_question")
    questions = serializers.SerializerMethodField()

    @extend_schema_field(QuestionSerializer(many=True))
    def get_questions(self, reason: Reason) -> list[dict[str, Any]]:
        """The reason's follow-up questions, from the cached catalogue (no query). Asked only
        where the case's rules allow (``rules.questions``)."""
        return list(QuestionSerializer(active_questions(reason.pk), many=True).data)


class FulfilmentSerializer(serializers.Serializer):
    """Who applies the offer when a person does: what the customer is told (docs/backends.md)."""

    by = serializers.ChoiceField(
        choices=[("staff", _("Staff"))], help_text=_("Who applies the offer: the site's staff.")
    )
    due_business_days = serializers.IntegerField(
        help_text=_("Business days staff have to apply it.")
    )
    due_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When staff apply it by; null until the offer is accepted.")
    )
    message = serializers.CharField(help_text=_("What to tell the customer, in their language."))


class OfferSerializer(serializers.Serializer):
    """The one offer shown to a case, and what the customer did with it."""

    slug = serializers.CharField(source="offer.slug")
    kind = serializers.ChoiceField(source="offer.kind", choices=OfferKind.choices)
    title = serializers.CharField(source="offer.localized_title")
    description = serializers.CharField(source="offer.localized_description")
    parameters = serializers.DictField(
        source="offer.parameters",
        help_text=_('What the offer does, by kind, e.g. {"percent_off": 30}.'),
    )
    outcome = serializers.ChoiceField(choices=OfferOutcome.choices)
    presented_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    fulfilment = serializers.SerializerMethodField()

    @extend_schema_field(FulfilmentSerializer(allow_null=True))
    def get_fulfilment(self, presentation: OfferPresentation) -> dict[str, Any] | None:
        """Null when the subscription backend or the site's code applies the offer at once, or
        when it was declined; else who applies it and by when."""
        from ..dates import format_date
        from ..services.fulfilment import promise_for

        if presentation.outcome == OfferOutcome.DECLINED:
            return None  # nothing will be applied
        promise = promise_for(presentation)
        if promise is None:
            return None
        if presentation.outcome == OfferOutcome.ACCEPTED and promise.due_at is None:
            # Accepted before due dates were stored: what the saved page says then.
            message = gettext(
                "Our team applies this offer for you in the next few days. You don't need to do "
                "anything."
            )
        elif promise.due_at is not None:
            date = format_date(promise.due_at, presentation.case)
            message = (
                ngettext(
                    "Our team applies this offer for you within %(days)s business day, by "
                    "%(date)s. You don't need to do anything.",
                    "Our team applies this offer for you within %(days)s business days, by "
                    "%(date)s. You don't need to do anything.",
                    promise.due_business_days,
                )
                if promise.due_business_days
                else gettext(
                    "Our team applies this offer for you by %(date)s. You don't need to do "
                    "anything."
                )
            ) % {"days": promise.due_business_days, "date": date}
        else:
            message = ngettext(
                "If you accept, our team applies it for you within %(days)s business day.",
                "If you accept, our team applies it for you within %(days)s business days.",
                promise.due_business_days,
            ) % {"days": promise.due_business_days}
        return {
            "by": "staff",
            "due_business_days": promise.due_business_days,
            "due_at": serializers.DateTimeField().to_representation(promise.due_at)
            if promise.due_at
            else None,
            "message": str(message),
        }


class RulesSerializer(serializers.Serializer):
    """The compliance rules the case's flow obeys (``compliance.rules_for``; docs/compliance.md)."""

    profile = serializers.CharField(
        help_text=_(
            'The compliance profile: "us", "us-mn", "de", "fr", "eu" or one of the site\'s own.'
        )
    )
    offers = serializers.BooleanField(
        help_text=_("Whether a retention offer may be shown before the cancellation is confirmed.")
    )
    offer_after_confirm = serializers.BooleanField(
        help_text=_(
            "Whether, once the cancellation is confirmed, the customer may be asked if they want "
            "to hear one offer (POST hear-offer/); accepting it reactivates the subscription."
        )
    )
    survey_first = serializers.BooleanField(
        help_text=_(
            "Whether the reason survey is asked next to the cancel button (true) or only as an "
            "optional extra sent with the cancellation (false)."
        )
    )
    declaration_page = serializers.BooleanField(
        help_text=_('Whether the no-login "cancel contracts here" page is available.')
    )
    heading = serializers.CharField(
        help_text=_(
            "The heading of the first step and the label of the button leading to it, "
            'translated; where the law words it, its words ("Verträge hier kündigen").'
        )
    )
    confirm_label = serializers.CharField(
        help_text=_(
            'The label of the button that confirms the cancellation, translated ("jetzt '
            'kündigen" under de).'
        )
    )
    statutory_labels = serializers.BooleanField(
        help_text=_("Whether both labels are the law's words: show them exactly, and nothing else.")
    )
    withdrawal_function = serializers.BooleanField(
        help_text=_("Whether the statutory withdrawal function is offered while its period runs.")
    )
    legal_reference = serializers.CharField(help_text=_("The law the profile follows."))
    questions = serializers.BooleanField(
        help_text=_("Whether the reason's follow-up questions may be asked (answers).")
    )


def rules_data(profile: str | None) -> dict[str, Any]:
    """``RulesSerializer``'s data for ``profile`` (the site's fallback profile when None)."""
    rules = rules_for(profile)
    return {
        "profile": rules.profile,
        "offers": rules.offers_before_confirm,
        "offer_after_confirm": rules.offer_after_confirm,
        "survey_first": rules.survey_first,
        "declaration_page": rules.declaration_page,
        "heading": str(rules.heading),
        "confirm_label": str(rules.confirm_label),
        "statutory_labels": rules.statutory_labels,
        "withdrawal_function": rules.withdrawal_function,
        "legal_reference": rules.legal_reference,
        "questions": rules.questions,
    }


class CaseSummarySerializer(serializers.Serializer):
    """A case in lists: everything but the rendered message (kept out so lists stay cheap)."""

    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    reason = serializers.CharField(source="reason.slug", allow_null=True)
    reason_label = serializers.CharField(source="reason.localized_label", allow_null=True)
    detail = serializers.CharField(source="reason_detail")
    preferred_channel = serializers.ChoiceField(choices=Channel.choices)
    contact_consent = serializers.BooleanField()
    offer = serializers.SerializerMethodField()
    effective_mode = serializers.ChoiceField(choices=EffectiveMode.choices)
    effective_at = serializers.DateTimeField(allow_null=True)
    can_reactivate = serializers.BooleanField()
    rules = serializers.SerializerMethodField()
    jurisdiction = serializers.CharField(
        help_text=_('Where the customer was for the law when the case started ("DE", "US-MN"); '
                    "empty when unknown.")
    )  # fmt: skip
    jurisdiction_source = serializers.CharField(
        help_text=_('Where the jurisdiction came from: "billing", "header", "default" or empty.')
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(RulesSerializer())
    def get_rules(self, case: CancellationCase) -> dict[str, Any]:
        """The rules of the profile the case started under, not the site's current one."""
        return rules_data(case.compliance_profile)

    @extend_schema_field(OfferSerializer(allow_null=True))
    def get_offer(self, case: CancellationCase) -> dict[str, Any] | None:
        try:
            presentation: OfferPresentation = case.offer_presentation
        except OfferPresentation.DoesNotExist:
            return None
        return OfferSerializer(presentation, context=self.context).data


class CaseSerializer(CaseSummarySerializer):
    """A case with the reason-specific message the flow shows next."""

    message = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.DictField(
            child=serializers.JSONField(),
            help_text=_(
                "The customer's answers to the reason's follow-up questions, by question key "
                "(a choice's key, a number from 0 to 10, or text)."
            ),
        )
    )
    def get_answers(self, case: CancellationCase) -> dict[str, Any]:
        """No query when the reason has no questions; one otherwise."""
        return dict(questions.current_answers(case))

    @extend_schema_field(
        serializers.CharField(
            help_text=_("Reason-specific message for this step; empty when none is configured.")
        )
    )
    def get_message(self, case: CancellationCase) -> str:
        """The copy the offer page shows, with the same context: when the subscription ends
        (``effective_at``, ``ends_later``), in the customer's time zone."""
        from ..rendering import render_message
        from ..services.cases import flow_message_context

        try:
            return render_message(
                case, "flow_message", channel="page", extra_context=flow_message_context(case)
            ).text
        except TemplateDoesNotExist:
            # No "flow_message" copy in the database nor in the templates: say nothing rather
            # than fail the whole response.
            return ""
        except Exception:
            # A broken copy must not turn a committed change (a confirmed cancellation) into a
            # 500: the response goes out without the message, and the error is logged.
            logger.exception("The flow message of case %s failed to render", case.reference)
            return ""


class OfferFiguresSerializer(serializers.Serializer):
    presented = serializers.IntegerField()
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(allow_null=True)


class OffersSummarySerializer(serializers.Serializer):
    presented = serializers.IntegerField()
    accepted = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(allow_null=True)
    by_offer = serializers.DictField(child=OfferFiguresSerializer(), help_text=_("By offer slug."))


class SummarySerializer(serializers.Serializer):
    """What ``analytics.summary()`` returns (documentation only: the view returns it as is)."""

    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_reason = serializers.DictField(
        child=serializers.IntegerField(), help_text=_('By reason slug; "none" for no reason.')
    )
    save_rate = serializers.FloatField(
        allow_null=True, help_text=_("Saved over decided cases; null when none was decided.")
    )
    offers = OffersSummarySerializer()
    mrr = serializers.DictField(
        help_text=_(
            "Monthly recurring revenue on every reason, answer, root cause, path and cohort, "
            "per currency (services/revenue.py: figures)."
        )
    )
