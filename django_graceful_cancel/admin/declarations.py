"""No-login cancellation declarations (the eu profile's public page), for staff to read.

Declarations are written by ``services.declarations`` only; staff find here the ones recorded for
them (``status="recorded"``: not matched, or not applicable automatically), the ones waiting for
the account holder (``pending``: an immediate termination) and the disputed ones, and settle them
through the linked case. "Apply" (permission to change declarations) makes a waiting declaration
effective once staff have checked, with the account holder, that it is theirs.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import CancellationDeclaration
from .actions import run_each
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
    actions = ["apply_declarations"]

    def has_apply_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("graceful_cancel.change_cancellationdeclaration")

    @admin.action(
        description=_("Apply: the account holder confirmed it to us"), permissions=["apply"]
    )
    def apply_declarations(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            queryset.order_by("pk"),
            lambda declaration: services.confirm_declaration(declaration, actor=request.user),
            done=lambda count: gettext("%(count)d declaration(s) applied.") % {"count": count},
            label=lambda declaration: declaration.reference,
        )
