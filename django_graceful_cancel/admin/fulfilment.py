"""Offers to apply: the desk tasks for accepted offers staff apply (``services.fulfilment``).

Staff find them here and on each case (the inline in ``admin/cases.py``). Every change goes
through the service layer, which records it in the case's timeline: "Mark applied" closes a task
(``fulfilment.mark_fulfilment_done``), "Assign to me" and the owner field give it to someone
(``fulfilment.assign_fulfilment_task``). Nothing else about a task can be edited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..choices import FulfilmentStatus, OfferKind
from ..exceptions import GracefulCancelError
from ..models import FulfilmentTask
from ..services import fulfilment
from .actions import run_each
from .cases import OwnerFilter


class OverdueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("overdue", _("Overdue")), ("upcoming", _("Not due yet"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(status=FulfilmentStatus.OPEN, due_at__lt=now)
        if self.value() == "upcoming":
            return queryset.filter(status=FulfilmentStatus.OPEN, due_at__gte=now)
        return queryset


class OfferKindFilter(admin.SimpleListFilter):
    title = _("kind of offer")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(OfferKind.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in OfferKind.values:
            return queryset.filter(offer__kind=self.value())
        return queryset


class FulfilmentTaskForm(forms.ModelForm):
    """What staff may do on a task; ``save_model`` turns it into service calls."""

    applied = forms.BooleanField(
        label=_("Applied"),
        required=False,
        help_text=_("Tick when the offer is in place: the task is closed and the case records it."),
    )

    class Meta:
        model = FulfilmentTask
        fields = ("owner", "note")
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"note": _("What you did (kept with the task and on the case's timeline).")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            field = self.fields["owner"]
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = get_user_model()._default_manager.filter(is_staff=True)
            # A plain choice of staff: no "add/change user" links next to it.
            field.widget = getattr(field.widget, "widget", field.widget)


@admin.register(FulfilmentTask)
class FulfilmentTaskAdmin(admin.ModelAdmin):
    """Accepted offers staff apply, the soonest due first."""

    form = FulfilmentTaskForm
    list_display = ("case", "offer", "status", "due_at", "overdue", "owner", "done_at", "done_by")
    list_filter = ("status", OverdueFilter, OfferKindFilter, OwnerFilter)
    search_fields = ("=case__reference",)
    list_select_related = ("case", "offer", "owner", "done_by")
    ordering = ("status", "due_at")
    actions = ["mark_applied", "assign_to_me"]
    readonly_fields = ("case", "offer", "status", "due_at", "created_at", "done_at", "done_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created when a customer accepts an offer

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Acting on a task is acting on its case.
        return request.user.has_perm("graceful_cancel.change_cancellationcase")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.view_cancellationcase") or (
            self.has_change_permission(request, obj)
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != FulfilmentStatus.OPEN:
            return (*self.readonly_fields, "owner", "note")
        return self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["case", "offer", "status", "due_at", "owner", "created_at"]
        if obj is not None and obj.status == FulfilmentStatus.OPEN:
            return [*fields, "note", "applied"]
        return [*fields, "done_at", "done_by", "note"]

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, task: FulfilmentTask) -> bool:
        return task.is_overdue

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if "owner" in form.changed_data:
                fulfilment.assign_fulfilment_task(obj.pk, data.get("owner"), actor=request.user)
            if data.get("applied"):
                fulfilment.mark_fulfilment_done(
                    obj.pk, actor=request.user, note=data.get("note") or ""
                )
        except GracefulCancelError as error:
            self.message_user(request, str(error.message), messages.ERROR)

    def construct_change_message(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []  # the case's timeline records what changed

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    @admin.action(description=_("Mark applied"), permissions=["change"])
    def mark_applied(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            queryset.filter(status=FulfilmentStatus.OPEN).values_list("pk", flat=True),
            lambda pk: fulfilment.mark_fulfilment_done(pk, actor=request.user),
            done=lambda count: (
                ngettext(
                    "%(count)d offer marked applied.", "%(count)d offers marked applied.", count
                )
                % {"count": count}
            ),
        )

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            queryset.filter(status=FulfilmentStatus.OPEN).values_list("pk", flat=True),
            lambda pk: fulfilment.assign_fulfilment_task(pk, request.user, actor=request.user),
            done=lambda count: (
                ngettext("%(count)d task is now yours.", "%(count)d tasks are now yours.", count)
                % {"count": count}
            ),
        )
