"""Withdrawals (the statutory withdrawal function) and the refund each one calls for.

Withdrawals are written by ``services.withdrawals`` only. Staff find here every withdrawal with
its refund obligation: every payment received, without undue delay and at the latest 14 days
after the withdrawal reached the site (CRD art. 13, BGB section 357, Code de la consommation
L221-24), with the amount when the backend reported it. "Refund done" (the checkbox on a
withdrawal, or the list action) records the refund through ``services.mark_refund_done``, which
writes it on the case's timeline; "Apply" makes a waiting no-login withdrawal effective once staff
have checked with the account holder that it is theirs. The case page shows the same task
(``WithdrawalInline``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import services
from ..choices import WithdrawalStatus
from ..exceptions import GracefulCancelError
from ..models import Withdrawal
from .actions import run_each


class RefundFilter(admin.SimpleListFilter):
    title = _("refund")
    parameter_name = "refund"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("To refund")), ("done", _("Refunded"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        withdrawn = queryset.filter(status=WithdrawalStatus.WITHDRAWN)
        if self.value() == "open":
            return withdrawn.filter(refunded_at__isnull=True)
        if self.value() == "done":
            return withdrawn.filter(refunded_at__isnull=False)
        return queryset


def refund_text(withdrawal: Withdrawal) -> str:
    """ "12.99 EUR by 13 June 2026 14:02 (UTC)", "refunded", or "" when nothing is owed."""
    from .. import dates

    if withdrawal.status != WithdrawalStatus.WITHDRAWN:
        return ""
    if withdrawal.refunded_at is not None:
        return gettext("Refunded %(when)s") % {
            "when": dates.format_datetime(withdrawal.refunded_at)
        }
    amount = (
        f"{withdrawal.refund_amount} {withdrawal.refund_currency}".strip()
        if withdrawal.refund_amount is not None
        else gettext("every payment received (amount unknown: check the billing system)")
    )
    return gettext("Refund %(amount)s by %(due)s") % {
        "amount": amount,
        "due": dates.format_datetime(withdrawal.refund_due_at),
    }


class WithdrawalForm(forms.ModelForm):
    """What staff may do on a withdrawal; ``save_model`` turns it into a service call."""

    refund_done = forms.BooleanField(
        label=_("Refund done"),
        required=False,
        help_text=_("Tick once every payment for this contract is refunded: the case records it."),
    )

    class Meta:
        model = Withdrawal
        fields = ("refund_note",)
        widgets = {"refund_note": forms.Textarea(attrs={"rows": 3})}


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    form = WithdrawalForm
    list_display = (
        "reference",
        "received_at",
        "status",
        "name",
        "email",
        "contract",
        "refund",
        "overdue",
        "case",
    )
    list_filter = ("status", RefundFilter, "signed_in", "compliance_profile")
    search_fields = ("reference", "name", "email", "contract", "case__reference")
    list_select_related = ("case",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    actions = ["mark_refunds_done", "apply_withdrawals"]
    readonly_fields = (
        "reference",
        "status",
        "received_at",
        "name",
        "email",
        "contract",
        "language",
        "time_zone",
        "compliance_profile",
        "signed_in",
        "customer",
        "subscription_ref",
        "case",
        "withdrawn_at",
        "acknowledged_at",
        "staff_note",
        "refund",
        "refunded_at",
        "refunded_by",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # only the withdrawal function creates them

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of a legal notice

    def has_apply_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("graceful_cancel.change_withdrawal")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(self.readonly_fields)
        if obj is not None and obj.refund_open:
            return [*fields, "refund_note", "refund_done"]
        return [*fields, "refund_note"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None or not obj.refund_open:
            return (*self.readonly_fields, "refund_note")
        return self.readonly_fields

    @admin.display(description=_("refund"))
    def refund(self, withdrawal: Withdrawal) -> str:
        return refund_text(withdrawal)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, withdrawal: Withdrawal) -> bool | None:
        due = withdrawal.refund_due_at
        if due is None or withdrawal.refunded_at is not None:
            return None
        return due < timezone.now()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not data.get("refund_done"):
            return
        try:
            services.mark_refund_done(obj, actor=request.user, note=data.get("refund_note") or "")
        except GracefulCancelError as error:
            self.message_user(request, str(error.message), messages.ERROR)

    def construct_change_message(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []  # the case's timeline records what changed

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None

    @admin.action(description=_("Refund done"), permissions=["change"])
    def mark_refunds_done(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            queryset.filter(status=WithdrawalStatus.WITHDRAWN, refunded_at__isnull=True).order_by(
                "pk"
            ),
            lambda withdrawal: services.mark_refund_done(withdrawal, actor=request.user),
            done=lambda count: (
                ngettext("%(count)d refund recorded.", "%(count)d refunds recorded.", count)
                % {"count": count}
            ),
            label=lambda withdrawal: withdrawal.reference,
        )

    @admin.action(
        description=_("Apply: the account holder confirmed it to us"), permissions=["apply"]
    )
    def apply_withdrawals(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            queryset.filter(status=WithdrawalStatus.PENDING).order_by("pk"),
            lambda withdrawal: services.confirm_withdrawal(withdrawal, actor=request.user),
            done=lambda count: (
                ngettext("%(count)d withdrawal applied.", "%(count)d withdrawals applied.", count)
                % {"count": count}
            ),
            label=lambda withdrawal: withdrawal.reference,
        )


class WithdrawalInline(admin.TabularInline):
    """The case's withdrawal and its refund task (read-only; the change link leads to it)."""

    model = Withdrawal
    fk_name = "case"
    fields = ("reference", "received_at", "refund", "refunded_at", "refund_note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("withdrawal and refund")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.view_cancellationcase")

    @admin.display(description=_("refund"))
    def refund(self, withdrawal: Withdrawal) -> str:
        return refund_text(withdrawal)
