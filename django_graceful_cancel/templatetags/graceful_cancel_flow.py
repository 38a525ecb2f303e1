"""Template filters of the flow's pages and messages: ``{% load graceful_cancel_flow %}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime

from .. import dates

register = template.Library()


@register.filter
def gc_datetime(value: Any) -> datetime | Any:
    """An ISO 8601 string (as stored in ``OfferPresentation.applied``) as a datetime."""
    if isinstance(value, str):
        return parse_datetime(value) or value
    return value


@register.filter
def gc_date(value: Any, case: Any = None) -> str:
    """A date as the customer reads it: ``{{ case.effective_at|gc_date:case }}``.

    In the case's time zone when it has one, otherwise in the current zone and then followed by
    the zone's name ("3 June 2025 (UTC)"). Takes datetimes, dates and ISO 8601 strings (such as
    ``presentation.applied.paused_until``); None or a missing value gives "". Use it for every
    date shown to a customer: pages, the API's message, the receipt and the emails.
    """
    return dates.format_date(value, case)


@register.filter
def gc_when(value: Any, case: Any = None) -> str:
    """A date and time with its zone's name: ``{{ case.cancelled_at|gc_when:case }}`` gives
    "3 June 2025, 14:00 (CEST)" (the case's time zone when it has one, else the current one)."""
    return dates.format_datetime(value, case)


@register.filter
def gc_absolute(path: Any) -> str:
    """A path as an absolute URL on the site (``GRACEFUL_CANCEL["SITE_URL"]``), for messages."""
    from ..sites import absolute

    return absolute(str(path or ""))


def _request_rules(context: Any) -> Any:
    """The rules for the page's visitor (``jurisdiction.rules_for_request``), resolved once per
    render; the site's fallback profile when the template has no request."""
    from ..compliance import rules_for
    from ..jurisdiction import rules_for_request

    request = context.get("request") if hasattr(context, "get") else None
    if request is None:
        return rules_for()
    cached = getattr(request, "_graceful_cancel_rules", None)
    if cached is None:
        cached = rules_for_request(request)
        request._graceful_cancel_rules = cached
    return cached


@register.simple_tag(takes_context=True)
def gc_declaration_url(context: Any) -> str:
    """The no-login "cancel contracts here" page, or "" when the visitor's profile has none.

    For the site's footer: ``{% gc_declaration_url as url %}{% if url %}<a href="{{ url }}">...``
    """
    from django.urls import NoReverseMatch, reverse

    if not _request_rules(context).declaration_page:
        return ""
    try:
        return reverse("graceful_cancel:declare")
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def gc_cancel_label(context: Any) -> str:
    """The label of the way into the cancellation flow for this visitor, as their profile's law
    words it: "Verträge hier kündigen" (de), "Résilier votre contrat" (fr), "Cancel your
    subscription" (us). For the account page's link::

        <a href="{% url 'graceful_cancel:start' %}">{% gc_cancel_label %}</a>

    Resolves the visitor's jurisdiction (the billing address may be a backend call), once per
    request.
    """
    return str(_request_rules(context).heading)
