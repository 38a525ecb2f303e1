"""Forms of the customer's pages. Every field is optional except what the law lets us ask.

The forms parse what the browser sent and show errors; the input rules of each step are the
service layer's (``services.flow.check_reason``, ``services.declarations.check_declaration``),
whose ``InvalidInput`` errors land on the form's fields, worded by the field's ``error_messages``
where it has one for the error's code.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import Channel, TerminationType
from .exceptions import InvalidInput
from .models import catalogue_cache
from .services import declarations, flow


def add_input_errors(form: forms.Form, error: InvalidInput) -> None:
    """Put the service's field errors on ``form``'s fields (unknown fields: on the form)."""
    for name, found in error.errors.items():
        field = form.fields.get(name)
        for item in found:
            message = field.error_messages.get(item.code, item.message) if field else item.message
            form.add_error(name if field else None, ValidationError(message, code=item.code))


class CatalogueChoiceField(forms.ChoiceField):
    """Radio buttons for the active reasons; whether a value is one of them is the service's rule
    (``flow.check_reason``), not the field's."""

    def validate(self, value: Any) -> None:
        forms.Field.validate(self, value)


class ReasonForm(forms.Form):
    """Why are you leaving (optional), and how may we follow up (optional, opt-in)."""

    reason = CatalogueChoiceField(
        label=_("Why are you leaving?"),
        required=False,
        widget=forms.RadioSelect,
        error_messages={
            "unknown_reason": _("Please choose one of the reasons listed, or none at all.")
        },
    )
    detail = forms.CharField(
        label=_("Anything you would like to add? (optional)"),
        required=False,
        max_length=flow.DETAIL_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    preferred_channel = forms.ChoiceField(
        label=_("If we may contact you, how?"),
        choices=Channel.choices,
        initial=Channel.EMAIL,
        required=False,
        widget=forms.RadioSelect,
    )
    contact_consent = forms.BooleanField(
        # Everything after the receipt depends on this box (sequences.py): say what it covers.
        label=_(
            "You may contact me about this cancellation (a thank-you, a short survey, an offer "
            "to come back)."
        ),
        required=False,
        initial=False,
    )
    contact_phone = forms.CharField(
        label=_("Phone number (only for SMS, WhatsApp or a call)"),
        required=False,
        max_length=flow.PHONE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, answers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Answers to the reason's follow-up questions by key, as the page sent them
        #: (``questions.posted_answers``); checked with the rest by ``flow.check_reason``.
        self.question_answers = answers
        #: The service's refusals by field (``InvalidInput.errors``), for the fields a page
        #: shows outside the form's own (the follow-up questions, ``answers.<key>``).
        self.service_errors: dict[str, list[str]] = {}
        # From the cached catalogue (models/catalogue_cache.py), in its order: no query.
        self.reasons = sorted(
            catalogue_cache.active_reasons().values(), key=lambda r: (r.order, r.slug)
        )
        reason_field = self.fields["reason"]
        assert isinstance(reason_field, forms.ChoiceField)
        reason_field.choices = [(r.slug, r.localized_label) for r in self.reasons]
        # No consent is ever pre-ticked, even when the form is shown again.
        self.fields["contact_consent"].initial = False
        #: The checked answer (``flow.ReasonAnswer``) once the form is valid.
        self.answer: flow.ReasonAnswer | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["preferred_channel"] = data.get("preferred_channel") or Channel.EMAIL
        self.answer = None
        try:
            self.answer = flow.check_reason(**self._answer_fields(data))
        except InvalidInput as error:
            add_input_errors(self, error)
            self.service_errors = {
                name: [str(item.message) for item in found] for name, found in error.errors.items()
            }
        return data

    def _answer_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = {name: data[name] for name in flow.REASON_FIELDS if name in data}
        if self.question_answers:
            fields["answers"] = self.question_answers
        if fields.get("reason"):
            # The form holds the catalogue already (its radio buttons): hand over the row.
            by_slug = {reason.slug: reason for reason in self.reasons}
            fields["reason"] = by_slug.get(fields["reason"], fields["reason"])
        return fields

    def lenient_answer(self) -> flow.ReasonAnswer:
        """What can be kept when the customer cancels straight away (``flow.lenient_reason``).

        A bad optional answer must never stand between the customer and the cancel button.
        """
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return flow.lenient_reason(self._answer_fields(cleaned), invalid=self.errors)


class DeclarationForm(forms.Form):
    """The public "cancel contracts here" page: only what identifies customer and contract."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        help_text=_("The address of your account, if you can; the confirmation is sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contract = forms.CharField(
        label=_("Which subscription"),
        help_text=_("For example the plan name, or your customer name or number."),
        max_length=300,
        required=False,
    )
    termination = forms.ChoiceField(
        label=_("Type of termination"),
        choices=TerminationType.choices,
        initial=TerminationType.ORDINARY,
        widget=forms.RadioSelect,
    )
    extraordinary_reason = forms.CharField(
        label=_("Reason for an extraordinary termination"),
        help_text=_("Only needed for an extraordinary termination."),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    requested_end_date = forms.DateField(
        label=_("End date you would like"),
        help_text=_("Leave empty to end the contract at the earliest possible date."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            declarations.check_declaration(
                termination=data.get("termination"),
                extraordinary_reason=data.get("extraordinary_reason") or "",
                requested_end_date=data.get("requested_end_date"),
                email=data.get("email") if "email" in data else None,
            )
        except InvalidInput as error:
            add_input_errors(self, error)
        return data
