"""Offer experiments, save checks, the privacy log and staff calls."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import services
from ..models import (
    CallTask,
    ExperimentVariant,
    FollowUp,
    OfferExperiment,
    OptOut,
    PrivacyRequest,
    SaveCheck,
)
from .actions import run_each


class VariantInline(admin.TabularInline):
    model = ExperimentVariant
    extra = 1
    autocomplete_fields = ()
    fields = ("offer", "weight")


@admin.register(OfferExperiment)
class OfferExperimentAdmin(admin.ModelAdmin):
    list_display = ("name", "reason", "holdout_percent", "is_active", "assigned", "created_at")
    list_filter = ("is_active", "reason")
    inlines = [VariantInline]
    list_select_related = ("reason",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(assigned_count=Count("assignments"))

    @admin.display(description=_("cases assigned"), ordering="assigned_count")
    def assigned(self, experiment: OfferExperiment) -> int:
        # Annotated by get_queryset(): not a field the type checker can see.
        return int(getattr(experiment, "assigned_count", 0))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: staff read them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SaveCheck)
class SaveCheckAdmin(ReadOnlyAdmin):
    list_display = ("case", "days", "still_active", "checked_at")
    list_filter = ("days", "still_active")
    list_select_related = ("case",)
    show_full_result_count = False


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "subject", "actor_label", "cases")
    list_filter = ("kind",)
    search_fields = ("=subject",)


# --- the follow-up outbox (issue 5), read here and changed through its services ---------------


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("case", "stage", "channel", "status", "due_at", "sent_at", "attempts")
    list_filter = ("status", "channel", "stage")
    search_fields = ("=case__reference", "=provider_message_id")
    list_select_related = ("case",)
    show_full_result_count = False
    ordering = ("-due_at",)


@admin.register(CallTask)
class CallTaskAdmin(ReadOnlyAdmin):
    """The calls staff owe customers who chose the phone; "mark done" records the call."""

    list_display = ("case", "stage", "phone", "status", "due_at", "assigned_to", "done_at")
    list_filter = ("status", "stage")
    search_fields = ("=case__reference",)
    list_select_related = ("case", "assigned_to")
    ordering = ("status", "due_at")
    actions = ["mark_done"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Acting on a call is acting on its case.
        return request.user.has_perm("graceful_cancel.change_cancellationcase")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # every field is read-only; calls are recorded through the "mark done" action

    @admin.action(description=_("Mark the call done"), permissions=["change"])
    def mark_done(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            sorted(set(queryset.values_list("case_id", flat=True))),
            lambda case_id: services.mark_call_done(case_id, actor=request.user),
            done=lambda count: (
                ngettext(
                    "Call recorded on %(count)d case.", "Call recorded on %(count)d cases.", count
                )
                % {"count": count}
            ),
        )


@admin.register(OptOut)
class OptOutAdmin(ReadOnlyAdmin):
    list_display = ("customer", "channel", "source", "created_at")
    list_filter = ("channel", "source")
    list_select_related = ("customer",)
