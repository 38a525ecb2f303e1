"""The eu profile's no-login declaration pages ("cancel contracts here"), docs/compliance.md."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import services
from ..compliance import rules_for
from ..exceptions import RateLimited
from ..forms import DeclarationForm
from ..models import CancellationDeclaration
from .pages import problem_page, render_page


def _declarations_enabled() -> None:
    if not rules_for().declaration_page:
        raise Http404


@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest) -> HttpResponse:
    """ "Cancel contracts here": no login, only what identifies customer and contract."""
    _declarations_enabled()
    form = DeclarationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            declaration = services.declare_cancellation(
                name=data["name"],
                email=data["email"],
                contract=data.get("contract") or "",
                termination=data["termination"],
                extraordinary_reason=data.get("extraordinary_reason") or "",
                requested_end_date=data.get("requested_end_date"),
                language=translation.get_language(),
                client=request.META.get("REMOTE_ADDR", ""),
            )
        except RateLimited:
            return problem_page(
                request,
                _("Too many requests"),
                _(
                    "We received several cancellations from you in a short time. Please wait an "
                    "hour and send it again, or write to us: your cancellation counts from the "
                    "moment it reaches us."
                ),
                status=429,
            )
        return redirect("graceful_cancel:declaration_received", token=declaration.access_token)
    status = 400 if form.errors else 200
    return render_page(request, "declaration/form.html", {"form": form}, status=status)


def declaration_received(request: HttpRequest, token: str) -> HttpResponse:
    """The acknowledgement: date and time of receipt and the end date, to print or keep."""
    declaration = get_object_or_404(
        CancellationDeclaration.objects.select_related("case"), access_token=token
    )
    return render_page(request, "declaration/received.html", {"declaration": declaration})


@require_http_methods(["GET", "POST"])
def declaration_dispute(request: HttpRequest, token: str) -> HttpResponse:
    """ "This was not me": the account holder flags the declaration for staff (one button)."""
    declaration = get_object_or_404(
        CancellationDeclaration.objects.select_related("case"), dispute_token=token
    )
    if request.method == "POST":
        declaration = services.dispute_declaration(declaration)
    return render_page(request, "declaration/dispute.html", {"declaration": declaration})
