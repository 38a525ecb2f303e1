"""The come-back page behind the signed link in win-back messages and on the receipt page
(docs/returns.md).

No login is needed: the signed token is the credential, bound to the case and its customer. A
signed-in user who is someone else gets a 404. GET shows exactly what coming back costs and one
button (mail scanners follow links: GET never subscribes anyone); the POST from it calls
``services.confirm_return``. A checkout page of the billing provider sends the customer back here
with ``?session_id=...``, which completes the return once the provider says it is paid.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_http_methods

from .. import dates, services
from ..backends.base import ResubscribeQuote
from ..conf import app_settings
from ..exceptions import BackendError, InvalidInput, InvalidTransition
from ..followups.links import InvalidLink, absolute, url_for
from ..models import RetentionOffer
from ..services.returns import Comeback, NotYourLink, shown
from .pages import account_url

#: How a return through the link appears on the timeline.
LINK_ACTOR = "customer (link)"

T = "django_graceful_cancel/returns/"


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    # The page speaks the case's language (the message's), not the browser's.
    comeback = context.get("comeback")
    language = (
        getattr(getattr(comeback, "case", None), "language", "") or translation.get_language()
    )
    base = {"gc_base_template": app_settings.BASE_TEMPLATE, "gc_account_url": account_url()}
    with translation.override(language):
        return render(request, T + template, {**base, **context}, status=status)


def quote_context(
    comeback: Comeback, quote: ResubscribeQuote, offer: RetentionOffer | None
) -> dict[str, Any]:
    """What the confirmation page shows, with the first charge's date and time in the customer's
    time zone (its name written next to it)."""
    # Dates are written in the page's language: the case's.
    with translation.override(comeback.case.language or translation.get_language()):
        first_charge = dates.format_datetime(quote.first_charge_at, comeback.case)
    return {"quote": quote, "offer": offer, "first_charge": first_charge, "seen": shown(quote)}


@require_http_methods(["GET", "POST"])
def comeback(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = services.open_comeback(token, user=request.user)
    except InvalidLink as error:
        status = 410 if error.reason == "expired" else 400
        return _render(request, "invalid.html", {"reason": error.reason}, status=status)
    except NotYourLink as error:
        raise Http404() from error
    context: dict[str, Any] = {"comeback": found, "case": found.case}
    if found.returned is not None:
        return _render(request, "welcome.html", {**context, "case_return": found.returned})
    if found.reactivate_instead:
        # Before the end there is nothing to come back to: undo the cancellation instead.
        return HttpResponseRedirect(url_for("reactivate", found.case.pk))
    session_id = request.GET.get("session_id", "")
    if session_id and request.method == "GET":
        return _complete_checkout(request, found, session_id, context)
    try:
        available = found.available
        quote, offer = services.quote_return(found) if available else (None, None)
    except BackendError:
        # The billing provider cannot be asked now: say so, charge nothing.
        return _render(request, "failed.html", context, status=502)
    if not available:
        return _render(request, "unavailable.html", context, status=410)
    if quote is None:
        return _render(request, "unavailable.html", context, status=410)
    context.update(quote_context(found, quote, offer))
    if request.method != "POST":
        return _render(request, "confirm.html", context)
    return_url = absolute(reverse("graceful_cancel:comeback", args=[token]))
    try:
        case_return, next_url = services.confirm_return(
            found, seen=request.POST.get("seen", ""), return_url=return_url, actor=LINK_ACTOR
        )
    except InvalidInput as error:
        # The price changed since the page was shown: show the new one, charge nothing.
        context["error"] = error.errors["quote"][0].message if "quote" in error.errors else ""
        return _render(request, "confirm.html", context, status=409)
    except InvalidTransition as error:
        if error.code == "reactivate_instead":
            return HttpResponseRedirect(url_for("reactivate", found.case.pk))
        return _render(request, "unavailable.html", context, status=410)
    except BackendError:
        return _render(request, "failed.html", context, status=502)
    if next_url:
        return HttpResponseRedirect(next_url)
    return _render(request, "welcome.html", {**context, "case_return": case_return})


def _complete_checkout(
    request: HttpRequest, found: Comeback, session_id: str, context: dict[str, Any]
) -> HttpResponse:
    """Back from the provider's checkout page: the return is complete once it says so."""
    try:
        case_return = services.complete_return(
            found.case, checkout_ref=session_id, actor=LINK_ACTOR
        )
    except (InvalidTransition, InvalidInput):
        # No checkout of this case to complete.
        return _render(request, "invalid.html", {**context, "reason": "invalid"}, status=400)
    except BackendError:
        return _render(request, "failed.html", context, status=502)
    if case_return is None:
        return _render(request, "checkout_pending.html", context)
    return _render(request, "welcome.html", {**context, "case_return": case_return})
