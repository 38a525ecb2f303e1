"""Offer experiments, save checks, the privacy log and staff calls."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..models import ExperimentVariant, OfferExperiment, PrivacyRequest, SaveCheck


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
        return experiment.assigned_count


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
