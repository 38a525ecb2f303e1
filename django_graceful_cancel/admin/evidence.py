"""The evidence record in the admin: a JSON download and a printable page per case.

Both need the view permission on cases. Exporting a case's record writes who did it, and when,
in the case's timeline (``services.evidence.record_export``). Records kept after the purge
deleted their case are listed under "Evidence records" and open the same way.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import CancellationCase, EvidenceRecord
from ..services import evidence

TEMPLATE = "admin/django_graceful_cancel/evidence.html"


def case_evidence_urls(model_admin: admin.ModelAdmin) -> list[Any]:
    """The case page's two evidence views, mounted by the case admin's ``get_urls``."""
    wrap = model_admin.admin_site.admin_view

    def download(request: HttpRequest, pk: int) -> HttpResponse:
        case = _case(model_admin, request, pk)
        record = evidence.build_record(case)
        evidence.record_export(case, actor=request.user, export_format="json")
        return json_response(record, case.reference)

    def printable(request: HttpRequest, pk: int) -> HttpResponse:
        case = _case(model_admin, request, pk)
        record = evidence.build_record(case)
        evidence.record_export(case, actor=request.user, export_format="html")
        back = reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk])
        json_url = reverse("admin:graceful_cancel_evidence_json", args=[case.pk])
        return page_response(request, record, back_url=back, json_url=json_url)

    return [
        path("<int:pk>/evidence.json", wrap(download), name="graceful_cancel_evidence_json"),
        path("<int:pk>/evidence/", wrap(printable), name="graceful_cancel_evidence"),
    ]


def _case(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> CancellationCase:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    return get_object_or_404(CancellationCase, pk=pk)


def json_response(record: dict[str, Any], reference: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(record, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="evidence-{reference}.json"'
    return response


def page_response(
    request: HttpRequest, record: dict[str, Any], *, back_url: str, json_url: str
) -> TemplateResponse:
    context = {
        "title": gettext("Evidence record %(reference)s")
        % {"reference": record["case"]["reference"]},
        "record": with_dates(record),
        "back_url": back_url,
        "json_url": json_url,
    }
    return TemplateResponse(request, TEMPLATE, context)


def with_dates(value: Any, key: str = "") -> Any:
    """The record with its ISO 8601 timestamps turned back into datetimes, for the page's date
    filter (which then prints them with their time zone)."""
    if isinstance(value, dict):
        # An event's data is shown as stored (its dates are ISO 8601 strings with their offset).
        return {k: v if k == "data" else with_dates(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [with_dates(v, key) for v in value]
    if isinstance(value, str) and (key == "at" or key.endswith("_at") or key == "retain_until"):
        parsed: datetime | None = parse_datetime(value)
        return parsed if parsed is not None else value
    return value


@admin.register(EvidenceRecord)
class EvidenceRecordAdmin(admin.ModelAdmin):
    """Retained records, including those of purged cases; read-only."""

    list_display = ["reference", "case_started_at", "snapshot_at", "retain_until", "case_kept"]
    search_fields = ["reference"]
    date_hierarchy = "case_started_at"
    fields = ("reference", "case", "case_started_at", "snapshot_at", "retain_until")
    readonly_fields = fields
    change_form_template = "admin/django_graceful_cancel/evidencerecord/change_form.html"

    @admin.display(boolean=True, description=_("case still kept"))
    def case_kept(self, row: EvidenceRecord) -> bool:
        return row.case_id is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Records go by the purge (past retention) or by erasure on request, both logged.
        return False

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/record.json",
                wrap(self.download),
                name="graceful_cancel_evidencerecord_json",
            ),
            path(
                "<int:pk>/record/", wrap(self.printable), name="graceful_cancel_evidencerecord_page"
            ),
            *super().get_urls(),
        ]

    def _row(self, request: HttpRequest, pk: int) -> EvidenceRecord:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(EvidenceRecord, pk=pk)

    def download(self, request: HttpRequest, pk: int) -> HttpResponse:
        row = self._row(request, pk)
        if row.case is not None:
            evidence.record_export(row.case, actor=request.user, export_format="json")
        return json_response(evidence.record_of(row), row.reference)

    def printable(self, request: HttpRequest, pk: int) -> HttpResponse:
        row = self._row(request, pk)
        if row.case is not None:
            evidence.record_export(row.case, actor=request.user, export_format="html")
        back = reverse("admin:graceful_cancel_evidencerecord_change", args=[row.pk])
        json_url = reverse("admin:graceful_cancel_evidencerecord_json", args=[row.pk])
        return page_response(request, evidence.record_of(row), back_url=back, json_url=json_url)
