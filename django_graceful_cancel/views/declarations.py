"""The eu profile's no-login declaration pages ("cancel contracts here"), docs/compliance.md.

The page answers before it looks anything up: the declaration is stored, the browser is sent to
its acknowledgement, and only once that answer has gone out (``close()`` of the response, which
the WSGI or ASGI server calls after sending it) is the declaration matched and acknowledged by
email (``services.process_declaration``). So neither the answer nor its timing tells the sender
whether an account matched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import services
from ..client_ip import client_ip
from ..exceptions import BackendError, InvalidTransition, RateLimited
from ..followups.links import InvalidLink
from ..forms import DeclarationForm
from ..jurisdiction import Jurisdiction, resolve_jurisdiction, rules_for_request
from ..models import CancellationDeclaration
from ..services.declarations import read_confirmation_token
from .pages import problem_page, render_page

logger = logging.getLogger("django_graceful_cancel")


def _declarations_enabled(request: HttpRequest) -> None:
    # The visitor's profile (jurisdiction.py: their billing address when signed in, else the
    # CDN's country header, else the site's default): de and eu have the page.
    if not rules_for_request(request).declaration_page:
        raise Http404


class RedirectThen(HttpResponseRedirect):
    """A redirect that runs ``then`` once the server has sent it.

    Servers call ``close()`` after the last byte went out (PEP 3333; Django's ASGI handler does
    the same), and Django's test client calls it too. ``then`` runs before ``request_finished``
    so it uses the request's database connection; it must not raise.
    """

    def __init__(self, redirect_to: str, then: Callable[[], None]) -> None:
        super().__init__(redirect_to)
        self.then: Callable[[], None] | None = then

    def close(self) -> None:
        then, self.then = self.then, None
        try:
            if then is not None:
                then()
        finally:
            super().close()


def _process(pk: int, jurisdiction: Jurisdiction | None) -> Callable[[], None]:
    def run() -> None:
        try:
            services.process_declaration(pk, jurisdiction=jurisdiction)
        except Exception:  # the sweep retries it; the sender has their receipt already
            logger.exception("Could not process cancellation declaration %s", pk)

    return run


@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest) -> HttpResponse:
    """ "Cancel contracts here": no login, only what identifies customer and contract."""
    _declarations_enabled(request)
    form = DeclarationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            declaration = services.receive_declaration(
                name=data["name"],
                email=data["email"],
                contract=data.get("contract") or "",
                termination=data["termination"],
                extraordinary_reason=data.get("extraordinary_reason") or "",
                requested_end_date=data.get("requested_end_date"),
                language=translation.get_language(),
                client=client_ip(request),
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
        location = reverse(
            "graceful_cancel:declaration_received", kwargs={"token": declaration.access_token}
        )
        # The sender's jurisdiction as this request shows it (the CDN's country header): the
        # case records it when the matched customer's billing address does not say.
        sender = resolve_jurisdiction(None, request)
        return RedirectThen(location, _process(declaration.pk, sender))
    status = 400 if form.errors else 200
    return render_page(request, "declaration/form.html", {"form": form}, status=status)


def declaration_received(request: HttpRequest, token: str) -> HttpResponse:
    """The acknowledgement: what the sender typed and the date and time of receipt, to print.

    Nothing here depends on whether, or to what, the declaration was matched: the details of a
    contract go only to the account's own address.
    """
    declaration = get_object_or_404(CancellationDeclaration, access_token=token)
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


@require_http_methods(["GET", "POST"])
def declaration_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The account holder confirms an immediate termination from the link sent to the account's
    own address. GET shows the button (mail scanners follow links); POST confirms."""
    try:
        declaration = read_confirmation_token(token)
    except InvalidLink as error:
        status = 410 if error.reason == "expired" else 400
        return render_page(request, "links/invalid.html", {"reason": error.reason}, status)
    if request.method == "POST":
        try:
            declaration = services.confirm_declaration(declaration)
        except InvalidTransition:
            declaration.refresh_from_db()  # confirmed, disputed or settled meanwhile: say so
        except BackendError:
            return problem_page(
                request,
                _("Please try again in a few minutes"),
                _(
                    "We cannot reach our billing system right now, so nothing was changed. "
                    "Please open the link again in a few minutes."
                ),
                status=503,
            )
    return render_page(request, "declaration/confirm.html", {"declaration": declaration})
