"""The case queue and the case page."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import services
from ..choices import SyncStatus
from ..conf import app_settings
from ..exceptions import GracefulCancelError
from ..models import (
    CancellationCase,
    CaseEvent,
    ExperimentAssignment,
    FulfilmentTask,
    OfferPresentation,
    QuestionAnswer,
    Reason,
    SaveCheck,
    StaffNote,
)
from ..services import desk as desk_services
from .actions import run_each
from .dashboard import dashboard_view
from .evidence import case_evidence_urls
from .insights import SuggestionInline
from .withdrawals import WithdrawalInline

# --- filters -----------------------------------------------------------------------------------


class OwnerFilter(admin.SimpleListFilter):
    """Staff only (a related-field filter would list every customer account)."""

    title = _("owner")
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        staff = get_user_model().objects.filter(is_staff=True).order_by("pk")
        return [
            ("me", gettext("Me")),
            ("none", gettext("Nobody")),
            *[(str(u.pk), u.get_username()) for u in staff[:50]],
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "me":
            return queryset.filter(owner=request.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        # ASCII digits only ("²".isdigit() is True) and no more than a 64-bit key holds.
        if value and value.isascii() and value.isdigit() and len(value) <= 18:
            return queryset.filter(owner_id=int(value))
        return queryset


#: Monthly-price bands of the value filter: (key, label, low, high).
VALUE_BANDS = [
    ("lt10", _("Under 10 a month"), None, Decimal(10)),
    ("10to20", _("10 to 20 a month"), Decimal(10), Decimal(20)),
    ("gte20", _("20 or more a month"), Decimal(20), None),
    ("unknown", _("Unknown"), None, None),
]


class ValueFilter(admin.SimpleListFilter):
    title = _("value")
    parameter_name = "value"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(key, label) for key, label, _low, _high in VALUE_BANDS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        for key, _label, low, high in VALUE_BANDS:
            if self.value() != key:
                continue
            if key == "unknown":
                return queryset.filter(price__isnull=True)
            if low is not None:
                queryset = queryset.filter(price__gte=low)
            if high is not None:
                queryset = queryset.filter(price__lt=high)
            return queryset
        return queryset


class ProviderSyncFilter(admin.SimpleListFilter):
    """Cancellations the subscription provider has not applied yet, and those past
    ``PROVIDER_SYNC_MAX_ATTEMPTS`` that need a person."""

    title = _("provider sync")
    parameter_name = "sync"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("pending", _("Pending")), ("attention", _("Needs attention"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "pending":
            return queryset.filter(provider_sync=SyncStatus.PENDING)
        if self.value() == "attention":
            return queryset.filter(
                provider_sync=SyncStatus.PENDING,
                provider_sync_attempts__gte=app_settings.PROVIDER_SYNC_MAX_ATTEMPTS,
            )
        return queryset


class PlanFilter(admin.SimpleListFilter):
    """Plans from the catalogue of recent cases: a DISTINCT over every case does not scale."""

    title = _("plan")
    parameter_name = "plan"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        recent = CancellationCase.objects.order_by("-created_at").values_list("plan", flat=True)
        plans = sorted({p for p in recent[:2000] if p})
        return [(p, p) for p in plans]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(plan=self.value()) if self.value() else queryset


# --- read-only inlines -------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """Shown to whoever may see the case; never edited here (services write these rows)."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("graceful_cancel.view_cancellationcase")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields


class TimelineInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("created_at", "kind", "actor_label", "data")
    verbose_name_plural = _("timeline")


class OfferInline(ReadOnlyInline):
    model = OfferPresentation
    fields = ("offer", "outcome", "presented_at", "decided_at", "applied")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("offer")


class FulfilmentInline(ReadOnlyInline):
    """The accepted offer staff apply, if it is one (admin/fulfilment.py lists them all)."""

    model = FulfilmentTask
    fk_name = "case"
    fields = ("offer", "status", "due_at", "owner", "done_at", "done_by", "note")
    show_change_link = True
    verbose_name_plural = _("offer to apply")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("offer", "owner", "done_by")


class NoteInline(ReadOnlyInline):
    model = StaffNote
    fields = ("created_at", "author", "body")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("author")


class SaveCheckInline(ReadOnlyInline):
    model = SaveCheck
    fields = ("days", "still_active", "checked_at")


class AnswerInline(ReadOnlyInline):
    """The customer's answers to the reason's follow-up questions (services/questions.py):
    staff read them; only the customer changes them, until the case closes."""

    model = QuestionAnswer
    fields = ("question_key", "kind", "choice", "score", "text", "updated_at")
    verbose_name_plural = _("follow-up answers")


def _followup_inlines() -> list[type[admin.options.InlineModelAdmin]]:
    """Follow-ups and call tasks of the follow-up outbox (issue 5), when installed."""
    from django.apps import apps

    inlines: list[type[admin.options.InlineModelAdmin]] = []
    try:
        followup = apps.get_model("graceful_cancel", "FollowUp")
    except LookupError:
        return inlines
    inlines.append(
        type(
            "FollowUpInline",
            (ReadOnlyInline,),
            {
                "model": followup,
                "fields": (
                    "stage",
                    "channel",
                    "status",
                    "due_at",
                    "sent_at",
                    "delivered_at",
                    "opened_at",
                    "attempts",
                    "last_error",
                ),
                "__module__": __name__,
            },
        )
    )
    try:
        call_task = apps.get_model("graceful_cancel", "CallTask")
    except LookupError:
        return inlines
    inlines.append(
        type(
            "CallTaskInline",
            (ReadOnlyInline,),
            {
                "model": call_task,
                "fk_name": "case",
                "fields": ("stage", "status", "phone", "due_at", "done_at", "outcome"),
                "__module__": __name__,
            },
        )
    )
    return inlines


# --- the case page's form ----------------------------------------------------------------------


class CaseDeskForm(forms.ModelForm):
    """What staff may change on a case; ``save_model`` turns each change into a service call."""

    new_note = forms.CharField(
        label=_("Add a note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you found or tried. Notes cannot be edited afterwards."),
    )

    class Meta:
        model = CancellationCase
        fields = ("owner", "root_cause", "root_cause_detail")


class RootCauseForm(forms.Form):
    root_cause = forms.ModelChoiceField(
        label=_("Root cause"), queryset=Reason.objects.all(), required=False
    )
    detail = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea)


class CallDoneForm(forms.Form):
    outcome = forms.CharField(
        label=_("What came of the call"), required=False, widget=forms.Textarea
    )


# --- the admin ---------------------------------------------------------------------------------

READONLY_FIELDS = (
    "reference",
    "customer_link",
    "status",
    "priority",
    "reason",
    "reason_detail",
    "preferred_channel",
    "contact_consent",
    "contact_phone",
    "language",
    "plan",
    "value",
    "tenure_days",
    "subscription_ref",
    "effective_mode",
    "effective_at",
    "provider_sync",
    "provider_sync_attempts",
    "provider_sync_error",
    "survey_score",
    "survey_comment",
    "experiment",
    "compliance_profile",
    "jurisdiction",
    "jurisdiction_source",
    "created_at",
    "cancelled_at",
    "saved_at",
    "reactivated_at",
    "closed_at",
)

CSV_COLUMNS = [
    ("reference", "reference"),
    ("created_at", "created_at"),
    ("status", "status"),
    ("reason", "reason__slug"),
    ("root_cause", "root_cause__slug"),
    ("plan", "plan"),
    ("price", "price"),
    ("currency", "currency"),
    ("billing_interval", "billing_interval"),
    ("tenure_days", "tenure_days"),
    ("preferred_channel", "preferred_channel"),
    ("owner", "owner__username"),
    ("priority", "priority"),
    ("survey_score", "survey_score"),
    ("cancelled_at", "cancelled_at"),
    ("saved_at", "saved_at"),
    ("reactivated_at", "reactivated_at"),
]


def _short(reason: Reason | None) -> str:
    if reason is None:
        return "—"
    label = reason.localized_label
    return format_html('<span title="{}">{}</span>', label, Truncator(label).chars(26))


REFERENCE_RE = re.compile(r"GC-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


class _Echo:
    def write(self, value: str) -> str:
        return value


@admin.register(CancellationCase)
class CancellationCaseAdmin(admin.ModelAdmin):
    form = CaseDeskForm
    change_list_template = "admin/django_graceful_cancel/cancellationcase/change_list.html"
    change_form_template = "admin/django_graceful_cancel/cancellationcase/change_form.html"
    list_display = (
        "reference",
        "customer_name",
        "plan",
        "stated_reason",
        "root_cause_short",
        "status",
        "preferred_channel",
        "owner",
        "value",
        "age",
        "priority",
    )
    list_filter = (
        "status",
        "reason",
        "root_cause",
        "preferred_channel",
        OwnerFilter,
        PlanFilter,
        ValueFilter,
        ProviderSyncFilter,
        "created_at",
    )
    search_fields = (
        "=reference",
        "customer__email",
        "customer__first_name",
        "customer__last_name",
        "customer__username",
    )
    # The "worth saving" queue: highest priority first (services store it; see priority.py).
    ordering = ("-priority", "-created_at")
    list_select_related = ("customer", "reason", "root_cause", "owner")
    list_per_page = 50
    # A COUNT(*) of every case on each page view is what makes big admin lists slow.
    show_full_result_count = False
    actions = [
        "assign_to_me",
        "release",
        "set_root_cause",
        "mark_call_done",
        "schedule_followups",
        "cancel_followups",
        "export_csv",
    ]
    readonly_fields = READONLY_FIELDS
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("reference", "status", "priority"),
                    ("customer_link", "language"),
                    ("plan", "value", "tenure_days"),
                )
            },
        ),
        (
            _("Why they are leaving"),
            {"fields": ("reason", "reason_detail", "root_cause", "root_cause_detail")},
        ),
        (
            _("Desk"),
            {"fields": ("owner", "new_note", ("preferred_channel", "contact_consent"))},
        ),
        (
            _("Contact and outcome"),
            {
                "fields": (
                    "contact_phone",
                    ("survey_score", "survey_comment"),
                    "experiment",
                    ("effective_mode", "effective_at"),
                    ("provider_sync", "provider_sync_attempts", "provider_sync_error"),
                    ("created_at", "closed_at"),
                    ("cancelled_at", "saved_at", "reactivated_at"),
                    ("subscription_ref", "compliance_profile"),
                    # Where the customer was for the law, and how that was found (issue 16).
                    ("jurisdiction", "jurisdiction_source"),
                ),
            },
        ),
    )

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [
            OfferInline,
            AnswerInline,
            # The private classifier's advice, decided by staff (admin/insights.py).
            SuggestionInline,
            FulfilmentInline,
            # The refund a withdrawal calls for (admin/withdrawals.py).
            WithdrawalInline,
            *_followup_inlines(),
            NoteInline,
            SaveCheckInline,
            TimelineInline,
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "reason", "root_cause", "owner")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # A reference is unique and indexed: skip the customer-name scan across every case.
        term = search_term.strip().upper()
        if REFERENCE_RE.fullmatch(term):
            return queryset.filter(reference=term), False
        return super().get_search_results(request, queryset, search_term)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        # Reasons and staff accounts are edited on their own pages, not from a case.
        widget = getattr(field, "widget", None)
        for flag in ("can_add_related", "can_change_related", "can_delete_related"):
            if hasattr(widget, flag):
                setattr(widget, flag, False)
        if widget is not None and hasattr(widget, "can_view_related"):
            widget.can_view_related = False
        return field

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Cases are created by customers and removed by the purge, never here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description=_("customer"), ordering="customer__email")
    def customer_name(self, case: CancellationCase) -> str:
        if case.customer is None:
            return "—"
        name = case.customer.get_full_name() if hasattr(case.customer, "get_full_name") else ""
        return name or case.customer.get_username()

    @admin.display(description=_("stated reason"), ordering="reason__order")
    def stated_reason(self, case: CancellationCase) -> str:
        return _short(case.reason)

    @admin.display(description=_("root cause"), ordering="root_cause__order")
    def root_cause_short(self, case: CancellationCase) -> str:
        return _short(case.root_cause)

    @admin.display(description=_("customer"))
    def customer_link(self, case: CancellationCase) -> str:
        if case.customer is None:
            return "—"
        email = getattr(case.customer, "email", "")
        return format_html("{} &lt;{}&gt;", self.customer_name(case), email)

    @admin.display(description=_("value"), ordering="price")
    def value(self, case: CancellationCase) -> str:
        if case.price is None:
            return "—"
        interval = case.billing_interval
        return f"{case.price} {case.currency}" + (f" / {interval}" if interval else "")

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, case: CancellationCase) -> str:
        return timesince(case.created_at, timezone.now(), depth=1)

    @admin.display(description=_("offer experiment"))
    def experiment(self, case: CancellationCase) -> str:
        # One query on the case page only: joining it into the list's query slows the queue.
        assignment = (
            ExperimentAssignment.objects.filter(case=case).select_related("variant__offer").first()
        )
        if assignment is None:
            return "—"
        arm = gettext("holdout (no offer)") if assignment.is_holdout else str(assignment.variant)
        return f"{assignment.experiment_id}: {arm}"

    # --- saving goes through the services --------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if "owner" in form.changed_data:
                services.assign_owner(obj, data["owner"], actor=request.user)
            if {"root_cause", "root_cause_detail"} & set(form.changed_data):
                services.set_root_cause(
                    obj, data["root_cause"], detail=data["root_cause_detail"], actor=request.user
                )
            if data.get("new_note"):
                services.add_note(obj, data["new_note"], actor=request.user)
        except GracefulCancelError as error:
            self.message_user(request, str(error.message), messages.ERROR)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # every inline is read-only

    def construct_change_message(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []  # the read-only inlines never change; the case's timeline says what did

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None  # the case's own timeline records who changed what

    # --- actions ---------------------------------------------------------------------------

    def _each(self, request: HttpRequest, queryset: QuerySet, call: Any, done: str) -> None:
        run_each(
            self,
            request,
            queryset.order_by("pk"),
            call,
            done=lambda count: done % {"count": count},
            label=lambda case: case.reference,
        )

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda case: services.assign_owner(case, request.user, actor=request.user),
            gettext("%(count)d case(s) assigned to you."),
        )

    @admin.action(description=_("Release (no owner)"), permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda case: services.assign_owner(case, None, actor=request.user),
            gettext("%(count)d case(s) released."),
        )

    @admin.action(description=_("Set root cause"), permissions=["change"])
    def set_root_cause(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._with_form(
            request,
            queryset,
            RootCauseForm,
            title=gettext("Set the root cause"),
            action="set_root_cause",
            call=lambda case, data: services.set_root_cause(
                case, data["root_cause"], detail=data["detail"], actor=request.user
            ),
            done=gettext("Root cause set on %(count)d case(s)."),
        )

    @admin.action(description=_("Mark the call done"), permissions=["change"])
    def mark_call_done(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._with_form(
            request,
            queryset,
            CallDoneForm,
            title=gettext("Mark the call done"),
            action="mark_call_done",
            call=lambda case, data: services.mark_call_done(
                case, outcome=data["outcome"], actor=request.user
            ),
            done=gettext("Call recorded on %(count)d case(s)."),
        )

    @admin.action(description=_("Schedule follow-ups"), permissions=["change"])
    def schedule_followups(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda case: desk_services.schedule_followups(case, actor=request.user),
            gettext("Follow-ups scheduled for %(count)d case(s)."),
        )

    @admin.action(description=_("Cancel pending follow-ups"), permissions=["change"])
    def cancel_followups(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda case: desk_services.cancel_followups(case, actor=request.user),
            gettext("Pending follow-ups cancelled for %(count)d case(s)."),
        )

    @admin.action(description=_("Export selected cases as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow([name for name, _field in CSV_COLUMNS])
            values = queryset.order_by("pk").values_list(*[f for _n, f in CSV_COLUMNS])
            for row in values.iterator(chunk_size=2000):
                yield writer.writerow(
                    [v.isoformat() if hasattr(v, "isoformat") else v for v in row]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="cancellation-cases.csv"'
        return response

    def _with_form(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        form_class: type[forms.Form],
        *,
        title: str,
        action: str,
        call: Any,
        done: str,
    ) -> Any:
        """An action that asks for a little input first (the admin's intermediate page)."""
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                self._each(request, queryset, lambda case: call(case, form.cleaned_data), done)
                return None
        else:
            form = form_class()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "cases": queryset[:100],
            "count": queryset.count(),
            "action": action,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/django_graceful_cancel/action_form.html", context)

    # --- extra pages: the dashboard and the customer's privacy requests --------------------

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard), name="graceful_cancel_dashboard"),
            path(
                "<int:pk>/export-customer/",
                wrap(self.export_customer),
                name="graceful_cancel_export_customer",
            ),
            path(
                "<int:pk>/erase-customer/",
                wrap(self.erase_customer),
                name="graceful_cancel_erase_customer",
            ),
            # The case's evidence record: JSON download and printable page (admin/evidence.py).
            *case_evidence_urls(self),
            *super().get_urls(),
        ]

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return dashboard_view(self, request)

    def _customer_of(self, request: HttpRequest, pk: int) -> tuple[CancellationCase, Any]:
        if not self.has_change_permission(request):
            raise PermissionDenied
        case = get_object_or_404(CancellationCase.objects.select_related("customer"), pk=pk)
        if case.customer is None:
            raise PermissionDenied(gettext("This case has no customer any more."))
        return case, case.customer

    def export_customer(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:graceful_cancel_cancellationcase_change", args=[pk])
            )
        _case, customer = self._customer_of(request, pk)
        data = services.export_customer_data(customer, actor=request.user)
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
        return response

    def erase_customer(self, request: HttpRequest, pk: int) -> HttpResponse:
        case, customer = self._customer_of(request, pk)
        count = CancellationCase.objects.filter(customer=customer).count()
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            services.erase_customer(customer, actor=request.user)
            self.message_user(
                request,
                gettext("Personal data erased from %(count)d case(s).") % {"count": count},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:graceful_cancel_cancellationcase_change", args=[pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Erase this customer's personal data?"),
            "case": case,
            "count": count,
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/django_graceful_cancel/erase_customer.html", context
        )
