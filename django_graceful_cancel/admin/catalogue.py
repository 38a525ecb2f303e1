"""The catalogue staff edit without a deploy: reasons, offers and message templates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..analytics import offer_cost_factors
from ..models import CancellationCase, MessageTemplate, Reason, RetentionOffer


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    list_display = ("label", "slug", "category", "offer_allowed", "is_active", "order")
    list_filter = ("category", "offer_allowed", "is_active")
    list_editable = ("order",)
    search_fields = ("slug", "label")
    prepopulated_fields = {"slug": ("label",)}


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


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("stage", "channel", "language", "reason", "subject", "is_active", "updated_at")
    list_filter = ("stage", "channel", "language", "reason", "is_active")
    search_fields = ("subject", "body")
    list_select_related = ("reason",)
    readonly_fields = ("preview",)
    fields = (
        ("stage", "channel", "language"),
        "reason",
        "subject",
        "body",
        "html_body",
        "is_active",
        "preview",
    )

    @admin.display(description=_("preview on sample data"))
    def preview(self, template: MessageTemplate) -> str:
        if template.pk is None:
            return gettext("Save to see a preview.")
        from ..rendering import message_context, render_message_template

        case = sample_case(template.language)
        case.reason = template.reason
        try:
            rendered = render_message_template(template, message_context(case))
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
