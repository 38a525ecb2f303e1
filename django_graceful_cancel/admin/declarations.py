"""No-login cancellation declarations (the eu profile's public page), for staff to read.

Declarations are written by ``services.declarations`` only; staff find here the ones recorded for
them (``status="recorded"``: not matched, or not applicable automatically) and the disputed ones,
and settle them through the linked case.
"""

from __future__ import annotations

from django.contrib import admin

from ..models import CancellationDeclaration
from .desk import ReadOnlyAdmin


@admin.register(CancellationDeclaration)
class CancellationDeclarationAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "received_at",
        "status",
        "name",
        "email",
        "termination",
        "requested_end_date",
        "case",
    )
    list_filter = ("status", "termination")
    search_fields = ("reference", "name", "email", "contract", "case__reference")
    list_select_related = ("case",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    exclude = ("access_token", "dispute_token", "client_hash")
