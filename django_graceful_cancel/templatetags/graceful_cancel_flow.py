"""Template filters of the flow's pages and messages: ``{% load graceful_cancel_flow %}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def gc_datetime(value: Any) -> datetime | Any:
    """An ISO 8601 string (as stored in ``OfferPresentation.applied``) as a datetime."""
    if isinstance(value, str):
        return parse_datetime(value) or value
    return value


@register.filter
def gc_absolute(path: Any) -> str:
    """A path as an absolute URL on the site (``GRACEFUL_CANCEL["SITE_URL"]``), for messages."""
    from ..services.declarations import absolute_url

    return absolute_url(str(path or ""))
