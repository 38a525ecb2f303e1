"""Customers to reach: the desk tasks for cancelled customers worth it who went dark
(``services.reach``), and the pauses with their state (``services.pauses``), read only.

Staff open a task, read what was already tried (so nobody repeats it), reach the customer on the
channel it names, and record the outcome, what they learnt and the root cause they found: the
form turns that into one ``complete_reach_out`` call, which writes the case's timeline and sets
the root cause next to the stated reason. Nothing else about a task can be edited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..choices import ReachOutOutcome, ReachOutStatus
from ..exceptions import GracefulCancelError, InvalidInput
from ..models import Pause, ReachOutTask, Reason
from ..services import reach


class ReachOutTaskForm(forms.ModelForm):
    """What staff record when they close a task; ``save_model`` calls the service."""

    done_outcome = forms.ChoiceField(
        label=_("How it went"),
        choices=[("", "---------"), *ReachOutOutcome.choices],
        required=False,
        help_text=_("Choose an outcome to close the task; it goes on the case's timeline."),
    )
    root_cause = forms.ModelChoiceField(
        label=_("Root cause found"),
        queryset=Reason.objects.filter(is_active=True),
        required=False,
        help_text=_("What really made them leave, if you found it (kept next to their reason)."),
    )
    root_cause_detail = forms.CharField(
        label=_("Root cause notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = ReachOutTask
        fields = ("note",)
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


@admin.register(ReachOutTask)
class ReachOutTaskAdmin(admin.ModelAdmin):
    """Cancelled customers worth a personal try, the most valuable first."""

    form = ReachOutTaskForm
    list_display = ("case", "priority", "channel", "status", "outcome", "created_at", "done_by")
    list_filter = ("status", "outcome", "channel")
    search_fields = ("=case__reference",)
    list_select_related = ("case", "done_by")
    ordering = ("status", "-case__priority", "created_at")
    readonly_fields = (
        "case",
        "priority",
        "stated_reason",
        "channel",
        "already_tried",
        "status",
        "outcome",
        "created_at",
        "done_at",
        "done_by",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by the went-dark scan

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.change_cancellationcase")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.view_cancellationcase") or (
            self.has_change_permission(request, obj)
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        shown = ["case", "priority", "stated_reason", "channel", "already_tried", "status"]
        if obj is not None and obj.status == ReachOutStatus.OPEN:
            return [*shown, "note", "done_outcome", "root_cause", "root_cause_detail"]
        return [*shown, "outcome", "note", "done_at", "done_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != ReachOutStatus.OPEN:
            return (*self.readonly_fields, "note")
        return self.readonly_fields

    @admin.display(description=_("priority"), ordering="case__priority")
    def priority(self, task: ReachOutTask) -> int:
        return task.case.priority

    @admin.display(description=_("stated reason"))
    def stated_reason(self, task: ReachOutTask) -> str:
        case = task.case
        words = f" — “{case.reason_detail[:200]}”" if case.reason_detail else ""
        return f"{case.reason or '—'}{words}"

    @admin.display(description=_("already tried"))
    def already_tried(self, task: ReachOutTask) -> SafeString:
        tried = task.tried if isinstance(task.tried, dict) else {}
        rows: list[tuple[str, str]] = [
            (str(_("Message")), f"{m.get('stage')} · {m.get('channel')} · {m.get('status')}")
            for m in tried.get("messages", [])
        ]
        rows += [
            (str(_("Offer")), f"{o.get('title') or o.get('offer')} · {o.get('outcome')}")
            for o in tried.get("offers", [])
        ]
        rows += [
            (str(_("Call")), f"{c.get('stage')} · {c.get('status')} {c.get('outcome') or ''}")
            for c in tried.get("calls", [])
        ]
        if not rows:
            return format_html("{}", _("Nothing but the confirmation."))
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li><strong>{}</strong>: {}</li>", rows)
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not data.get("done_outcome"):
            if "note" in form.changed_data:
                self.message_user(
                    request,
                    _("Choose how it went to close the task; the note was not saved."),
                    messages.WARNING,
                )
            return
        try:
            reach.complete_reach_out(
                obj.pk,
                outcome=data["done_outcome"],
                note=data.get("note") or "",
                root_cause=data.get("root_cause"),
                root_cause_detail=data.get("root_cause_detail") or "",
                actor=request.user,
            )
        except (GracefulCancelError, InvalidInput) as error:
            self.message_user(request, str(error.message), messages.ERROR)

    def construct_change_message(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []  # the case's timeline records what changed

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None


@admin.register(Pause)
class PauseAdmin(admin.ModelAdmin):
    """Pauses and how they ended; changed only by the customer's links, the sweep and the
    billing provider (docs/pause.md)."""

    list_display = ("case", "state", "starts_at", "ends_at", "extended_days", "ended_at", "via")
    list_filter = ("state", "via")
    search_fields = ("=case__reference", "=subscription_ref")
    list_select_related = ("case",)
    ordering = ("-starts_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.view_cancellationcase") or (
            request.user.has_perm("graceful_cancel.change_cancellationcase")
        )
