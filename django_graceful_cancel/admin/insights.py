"""The private classifier on the desk: its suggestions, accepted or rejected by staff.

A suggestion never changes a case by itself. Staff read the customer's words next to it and
choose "Accept" (the service sets the root cause, or the reason when the customer chose "other"
or none, and writes the timeline) or "Reject" (recorded, the case unchanged). The list's heading
shows how often staff accept them: the measure of whether the classifier helps.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Case, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from ..insights.suggestions import accept_suggestion, acceptance_rate, reject_suggestion
from ..models import Suggestion
from ..models.insights import SuggestionStatus
from .actions import run_each

CASE_PERMISSION = "graceful_cancel.change_cancellationcase"


def _percent(confidence: float) -> str:
    return f"{round(confidence * 100)} %"


def acceptance_summary(start: Any = None, end: Any = None) -> str:
    """One line for staff: how many suggestions were accepted, rejected and are waiting."""
    rate = acceptance_rate(start, end)
    if not rate.decided:
        return gettext("%(pending)d suggestion(s) waiting; none decided yet.") % {
            "pending": rate.pending
        }
    return gettext(
        "Staff accepted %(accepted)d of %(decided)d decided suggestions (%(rate)s); "
        "%(pending)d waiting."
    ) % {
        "accepted": rate.accepted,
        "decided": rate.decided,
        "rate": f"{round((rate.rate or 0) * 100)} %",
        "pending": rate.pending,
    }


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    """Every suggestion, pending first; decided only through the two actions."""

    list_display = ("case_link", "words", "suggestion_shown", "confidence_shown", "status")
    list_filter = ("status", "field")
    search_fields = ("=case__reference",)
    list_select_related = ("case", "case__reason", "suggested", "decided_by")
    # Waiting ones first, the surest first among them.
    ordering = (
        Case(When(status=SuggestionStatus.PENDING, then=Value(0)), default=Value(1)).asc(),
        "-confidence",
        "-pk",
    )
    actions = ["accept", "reject"]
    list_per_page = 50
    show_full_result_count = False

    # Staff who may work a case may decide on its suggestions; nobody edits one by hand.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.view_cancellationcase")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(CASE_PERMISSION)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in Suggestion._meta.fields]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "subtitle": acceptance_summary()}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("case"), ordering="case__created_at")
    def case_link(self, suggestion: Suggestion) -> str:
        url = reverse("admin:graceful_cancel_cancellationcase_change", args=[suggestion.case_id])
        return format_html('<a href="{}">{}</a>', url, suggestion.case.reference)

    @admin.display(description=_("suggestion"), ordering="field")
    def suggestion_shown(self, suggestion: Suggestion) -> str:
        # One column for both ("Root cause: Price") keeps the customer's words readable.
        return format_html(
            "{}<br><strong>{}</strong>", suggestion.get_field_display(), suggestion.suggested
        )

    @admin.display(description=_("confidence"), ordering="confidence")
    def confidence_shown(self, suggestion: Suggestion) -> str:
        return _percent(suggestion.confidence)

    @admin.display(description=_("in the customer's words"))
    def words(self, suggestion: Suggestion) -> str:
        return Truncator(suggestion.case.reason_detail).chars(160)

    def _decide(self, request: HttpRequest, queryset: QuerySet, call: Any, done: str) -> None:
        run_each(
            self,
            request,
            queryset.order_by("pk"),
            lambda suggestion: call(suggestion, actor=request.user),
            done=lambda count: done % {"count": count},
            label=lambda suggestion: suggestion.case.reference,
        )

    @admin.action(description=_("Accept (apply to the case)"), permissions=["change"])
    def accept(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(
            request,
            queryset.filter(status=SuggestionStatus.PENDING),
            accept_suggestion,
            gettext("%(count)d suggestion(s) accepted and applied."),
        )

    @admin.action(description=_("Reject (leave the case as it is)"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(
            request,
            queryset.filter(status=SuggestionStatus.PENDING),
            reject_suggestion,
            gettext("%(count)d suggestion(s) rejected."),
        )


class SuggestionInline(admin.TabularInline):
    """The case's suggestions on the case page, with a link to accept or reject them."""

    model = Suggestion
    fk_name = "case"
    extra = 0
    can_delete = False
    fields = ("field", "suggested", "confidence_shown", "status", "decided_by", "decide")
    readonly_fields = fields
    verbose_name_plural = _("classifier suggestions")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.view_cancellationcase")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("case", "suggested", "decided_by")

    @admin.display(description=_("confidence"))
    def confidence_shown(self, suggestion: Suggestion) -> str:
        return _percent(suggestion.confidence)

    @admin.display(description=pgettext("suggestion", "decide"))
    def decide(self, suggestion: Suggestion) -> str:
        if suggestion.status != SuggestionStatus.PENDING:
            return ""
        url = reverse("admin:graceful_cancel_suggestion_changelist")
        query = urlencode({"q": suggestion.case.reference, "status__exact": "pending"})
        return format_html('<a href="{}?{}">{}</a>', url, query, gettext("Accept or reject"))
