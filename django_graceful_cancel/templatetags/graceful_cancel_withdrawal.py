"""The withdrawal function's link for the site's account page: ``{% load graceful_cancel_withdrawal %}``.

``{% gc_withdrawal_link %}`` renders "Withdraw from contract here" ("Vertrag widerrufen",
"renoncer au contrat ici") while the signed-in customer's withdrawal period runs, and nothing
otherwise; ``{% gc_withdrawal_url as url %}`` gives the address alone for your own markup
(docs/compliance.md, "Withdrawal function").
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from ..compliance import rules_for
from ..exceptions import BackendError
from ..services.withdrawals import window_for, withdrawal_profile

register = template.Library()


@register.simple_tag(takes_context=True)
def gc_withdrawal_url(context: Any) -> str:
    """The withdrawal page for the signed-in customer, or "" when it is not offered (no
    withdrawal function under their profile, the period is over, nothing to withdraw from, or
    the backend cannot answer: the page itself then says what is wrong). For a visitor who is
    not signed in, the no-login page where their profile has one, else ""."""
    request = context.get("request") if hasattr(context, "get") else None
    if request is None:
        return _withdrawal_url(request)
    # Once per request, like ``gc_cancel_label``: the window may cost the billing provider a
    # call, and a page often shows the link twice (the account page and the footer).
    cached = getattr(request, "_graceful_cancel_withdrawal_url", None)
    if cached is None:
        cached = _withdrawal_url(request)
        request._graceful_cancel_withdrawal_url = cached
    return cached


def _withdrawal_url(request: Any) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # A visitor: the no-login page, where the visitor's profile has one (for the footer);
        # it cannot know whose period runs, so it is always there.
        rules = rules_for(withdrawal_profile(None, request))
        if not rules.withdrawal_function or rules.withdrawal_login_required:
            return ""
    else:
        try:
            current = window_for(user, request)
        except BackendError:
            return ""
        if not current.open:
            return ""
    try:
        return reverse("graceful_cancel:withdraw")
    except NoReverseMatch:  # the host did not include django_graceful_cancel.urls
        return ""


@register.inclusion_tag("django_graceful_cancel/withdrawal/link.html", takes_context=True)
def gc_withdrawal_link(context: Any) -> dict[str, Any]:
    """The link with its statutory label while the withdrawal period runs; nothing otherwise."""
    return {"url": gc_withdrawal_url(context)}
