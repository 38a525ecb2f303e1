"""The catalogue staff edit without a deploy: reasons, offers and message templates.

Copy that staff can check (docs/messages.md): each reason has a page that previews every stage of
its messages in a language, on sample data; the reasons' list links to an overview of which
reasons still fall back to the generic copy, and of message files that make a claim outside the
``{% if %}`` of its condition; message template rows are checked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import TemplateDoesNotExist
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext, pgettext
from django.utils.translation import gettext_lazy as _

from ..analytics import offer_cost_factors
from ..catalogue.defaults import STAGES
from ..catalogue.routes import is_routed
from ..choices import CaseStatus
from ..models import (
    CancellationCase,
    FeedbackDelivery,
    MessageTemplate,
    Reason,
    ReasonQuestion,
    RetentionOffer,
)
from ..rendering import (
    PARTS,
    Finding,
    copy_origin,
    formal_register,
    gift_for,
    goodbye_settings,
    lint_file,
    lint_template,
    message_context,
    render_message,
    render_message_template,
)
from ..sites import absolute

#: Stage -> the channels it is previewed on (the first is the one its origin is told for).
PREVIEW_CHANNELS: dict[str, tuple[str, ...]] = {
    "flow_message": ("page",),
    "confirmation": ("email",),
    "thank_you": ("email", "sms"),
    "survey": ("email", "sms"),
    "winback": ("email", "sms"),
}

ORIGIN_LABELS = {
    "database": _("staff copy"),
    "file": _("template file"),
    "catalogue": _("written for the reason"),
    "generic": _("generic"),
    "none": _("not sent for this reason"),
}


def sample_case(language: str = "en") -> CancellationCase:
    """An unsaved case with made-up data, to preview templates without touching real customers."""
    now = timezone.now()
    customer = get_user_model()(username="alex", first_name="Alex", email="alex@example.com")
    return CancellationCase(
        reference="GC-SAMP-LE00-0000",
        customer=customer,
        plan="Premium",
        plan_code="premium",
        price=Decimal("19.99"),
        currency="EUR",
        billing_interval="month",
        tenure_days=400,
        language=language,
        created_at=now,
        cancelled_at=now,
        effective_at=now + timedelta(days=20),
        period_end=now + timedelta(days=20),
    )


def preview_case(reason: Reason | None, language: str) -> CancellationCase:
    """``sample_case``, cancelled for ``reason``, with words a customer might have written."""
    case = sample_case(language)
    case.status = CaseStatus.CANCELLED
    case.reason = reason
    with translation.override(language):
        case.reason_detail = pgettext(
            "sample words of a customer in previews", "I used it less than I thought I would"
        )
    return case


def preview_links() -> dict[str, str]:
    """Made-up addresses for the signed links of a preview (the sample case has no key)."""
    base = absolute("/preview/")
    return {
        "unsubscribe_url": f"{base}unsubscribe/",
        "unsubscribe_channel_url": f"{base}unsubscribe/",
        "survey_url": f"{base}survey/",
        "reactivate_url": f"{base}reactivate/",
        "export_url": f"{base}export/" if goodbye_settings().get("export") else "",
    }


@dataclass
class CopyRow:
    """Where each stage's copy comes from for one reason."""

    reason: Reason
    #: (stage, origin, origin label) in stage order.
    origins: list[tuple[str, str, str]]

    @property
    def generic(self) -> list[str]:
        return [stage for stage, origin, _label in self.origins if origin == "generic"]


def copy_rows(language: str) -> list[CopyRow]:
    """Every active reason with where each stage's copy comes from in ``language``."""
    rows = []
    for reason in Reason.objects.filter(is_active=True):
        origins = []
        for stage in STAGES:
            origin = copy_origin(
                reason, stage, channel=PREVIEW_CHANNELS[stage][0], language=language
            )
            origins.append((stage, origin, str(ORIGIN_LABELS[origin])))
        rows.append(CopyRow(reason, origins))
    return rows


def message_file_names(reasons: list[Reason]) -> list[str]:
    """The message files a site's copy is made of (the generic frames and any reason's own)."""
    names = []
    for stage in STAGES:
        for channel in PREVIEW_CHANNELS[stage] + (("phone",) if stage != "flow_message" else ()):
            parts = [part for part in PARTS[channel] if part]
            names += [f"django_graceful_cancel/messages/{stage}/default_{part}" for part in parts]
            names += [
                f"django_graceful_cancel/messages/{stage}/{reason.slug}_{part}"
                for reason in reasons
                for part in parts
            ]
    names += [
        "django_graceful_cancel/messages/includes/goodbye.txt",
        "django_graceful_cancel/messages/includes/goodbye.html",
        "django_graceful_cancel/includes/heard.html",
        "django_graceful_cancel/includes/goodbye.html",
    ]
    return list(dict.fromkeys(names))


def file_findings(language: str) -> list[tuple[str, Finding]]:
    """Claims without their condition in the message files Django finds (the site's first)."""
    found = []
    for name in message_file_names(list(Reason.objects.filter(is_active=True))):
        try:
            findings = lint_file(name, language=language)
        except TemplateDoesNotExist:
            continue
        found += [(name, finding) for finding in findings]
    return found


def row_findings(template: MessageTemplate) -> list[Finding]:
    """Claims a staff row makes without their condition (subject, text and HTML)."""
    found: list[Finding] = []
    for source in (template.subject, template.body, template.html_body):
        if source:
            found += lint_template(source, language=template.language)
    return found


def describe(finding: Finding) -> str:
    return gettext("“%(excerpt)s” is said without its condition: %(condition)s") % {
        "excerpt": finding.excerpt,
        "condition": " / ".join(finding.conditions),
    }


def _language(request: HttpRequest) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    chosen = request.GET.get("language", "")
    if chosen in codes:
        return chosen
    active = get_language() or settings.LANGUAGE_CODE
    return active if active in codes else codes[0]


class ReasonQuestionInline(admin.StackedInline):
    """The reason's optional follow-up questions (docs/questions.md), edited on the reason.

    ``translations`` holds each language's prompt and choice labels, as the reason's label does:
    ``{"es": {"prompt": "...", "choices": {"budget": "..."}}}``. Staff see the answers on each
    case; only the customer changes them.
    """

    model = ReasonQuestion
    extra = 0
    fields = (
        ("key", "kind", "order", "is_active"),
        "prompt",
        "choices",
        "max_length",
        "translations",
    )


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    inlines = [ReasonQuestionInline]
    list_display = (
        "label",
        "slug",
        "category",
        "offer_allowed",
        "message_copy",
        "is_active",
        "order",
    )
    list_filter = ("category", "offer_allowed", "is_active")
    list_editable = ("order",)
    search_fields = ("slug", "label")
    prepopulated_fields = {"slug": ("label",)}
    change_list_template = "admin/django_graceful_cancel/reason/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "messages/",
                view(self.messages_overview),
                name="graceful_cancel_reason_messages",
            ),
            path(
                "<int:pk>/messages/",
                view(self.messages_preview),
                name="graceful_cancel_reason_preview",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("messages"))
    def message_copy(self, reason: Reason) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:graceful_cancel_reason_preview", args=[reason.pk]),
            gettext("Preview"),
        )

    def messages_overview(self, request: HttpRequest) -> HttpResponse:
        """Which reasons fall back to the generic copy, and which files make unbacked claims."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        language = _language(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Message copy by reason"),
            "language": language,
            "languages": settings.LANGUAGES,
            "stages": STAGES,
            "rows": copy_rows(language),
            "file_findings": [(name, describe(f)) for name, f in file_findings(language)],
            "row_findings": [
                (template, "; ".join(describe(f) for f in findings))
                for template in MessageTemplate.objects.filter(is_active=True).select_related(
                    "reason"
                )
                if (findings := row_findings(template))
            ],
        }
        return TemplateResponse(
            request, "admin/django_graceful_cancel/reason/messages_overview.html", context
        )

    def messages_preview(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Every stage of a reason's messages in one language, on sample data."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        reason = get_object_or_404(Reason, pk=pk)
        language = _language(request)
        case = preview_case(reason, language)
        previews = []
        for stage in STAGES:
            for channel in PREVIEW_CHANNELS[stage]:
                extra: dict[str, Any] = preview_links()
                if stage == "flow_message":
                    extra.update(ends_later=True, effective_at=case.effective_at)
                try:
                    rendered = render_message(
                        case, stage, channel=channel, language=language, extra_context=extra
                    )
                except TemplateDoesNotExist:
                    continue
                previews.append(
                    {
                        "stage": stage,
                        "channel": channel,
                        "origin": str(
                            ORIGIN_LABELS[
                                copy_origin(reason, stage, channel=channel, language=language)
                            ]
                        ),
                        "rendered": rendered,
                    }
                )
        with translation.override(language):
            conditions = [
                (gettext("Feedback routed for this reason"), is_routed(reason)),
                (gettext("Formal register"), formal_register(language)),
                (gettext("Trying to win them back is right"), reason.offer_allowed),
                (gettext("Data export link"), bool(goodbye_settings().get("export"))),
                (
                    gettext("Content kept after the end"),
                    bool(goodbye_settings().get("keeps_content")),
                ),
                (gettext("A gift"), gift_for(language) is not None),
            ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": reason,
            "title": gettext("Messages for “%(reason)s”") % {"reason": reason.label},
            "reason": reason,
            "language": language,
            "languages": settings.LANGUAGES,
            "previews": previews,
            "conditions": conditions,
            "sample_words": case.reason_detail,
        }
        return TemplateResponse(
            request, "admin/django_graceful_cancel/reason/messages_preview.html", context
        )


@admin.register(RetentionOffer)
class RetentionOfferAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "kind", "fits", "cost", "is_active", "order")
    list_filter = ("kind", "is_active", "reasons")
    search_fields = ("slug", "title")
    filter_horizontal = ("reasons",)
    readonly_fields = ("cost",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("reasons")

    @admin.display(description=_("fits reasons"))
    def fits(self, offer: RetentionOffer) -> str:
        return ", ".join(r.slug for r in offer.reasons.all()) or "—"

    @admin.display(description=_("cost per acceptance"))
    def cost(self, offer: RetentionOffer) -> str:
        months, fixed = offer_cost_factors(offer.kind, offer.parameters)
        parts = []
        if months:
            parts.append(gettext("%(months)s x monthly price") % {"months": months.normalize()})
        if fixed:
            parts.append(str(fixed))
        return " + ".join(parts) or "0"


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = (
        "stage",
        "channel",
        "language",
        "reason",
        "subject",
        "claims",
        "is_active",
        "updated_at",
    )
    list_filter = ("stage", "channel", "language", "reason", "is_active")
    search_fields = ("subject", "body")
    list_select_related = ("reason",)
    readonly_fields = ("claims_check", "preview")
    fields = (
        ("stage", "channel", "language"),
        "reason",
        "subject",
        "body",
        "html_body",
        "is_active",
        "claims_check",
        "preview",
    )

    @admin.display(description=_("claims"))
    def claims(self, template: MessageTemplate) -> str:
        findings = row_findings(template)
        if not findings:
            return "✓"
        return format_html(
            '<span class="errornote" title="{}">{}</span>',
            "; ".join(describe(f) for f in findings),
            gettext("%(count)s without their condition") % {"count": len(findings)},
        )

    @admin.display(description=_("claims without their condition"))
    def claims_check(self, template: MessageTemplate) -> str:
        if template.pk is None:
            return gettext("Save to check the copy.")
        findings = row_findings(template)
        if not findings:
            return gettext("None: every claim this copy makes depends on what makes it true.")
        return format_html(
            '<ul class="errornote">{}</ul>',
            format_html_join("", "<li>{}</li>", ((describe(f),) for f in findings)),
        )

    @admin.display(description=_("preview on sample data"))
    def preview(self, template: MessageTemplate) -> str:
        if template.pk is None:
            return gettext("Save to see a preview.")
        case = preview_case(template.reason, template.language)
        with translation.override(template.language):
            context = message_context(case, stage=template.stage, **preview_links())
        try:
            rendered = render_message_template(template, context)
        except Exception as error:  # noqa: BLE001  (any error is the staff's to see, not a 500)
            # Syntax errors, unknown tags or filters, a {% url %} that does not resolve...
            return format_html(
                '<p class="errornote">{}</p>',
                gettext("This template fails to render: %(error)s") % {"error": error},
            )
        parts = [(gettext("Subject"), rendered.subject)] if rendered.subject else []
        parts.append((gettext("Text"), rendered.text))
        html = format_html_join(
            "",
            '<p><strong>{}</strong></p><pre style="white-space: pre-wrap; max-width: 70ch">{}</pre>',
            parts,
        )
        if rendered.html:
            html += format_html(
                '<p><strong>{}</strong></p><iframe sandbox srcdoc="{}" '
                'style="width: 100%; max-width: 640px; height: 320px; border: 1px solid #ccc">'
                "</iframe>",
                gettext("HTML"),
                rendered.html,
            )
        return html


@admin.register(FeedbackDelivery)
class FeedbackDeliveryAdmin(admin.ModelAdmin):
    """The log of what was routed to whom (``FEEDBACK_ROUTES``); read only."""

    list_display = ("route", "mode", "case", "period_start", "cases", "status", "sent_at")
    list_filter = ("mode", "status", "route")
    search_fields = ("route", "case__reference")
    list_select_related = ("case",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
