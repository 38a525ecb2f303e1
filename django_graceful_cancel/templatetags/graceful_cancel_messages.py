"""Message copy on the site's own pages: ``{% load graceful_cancel_messages %}``.

``{% gc_heard case %}`` and ``{% gc_goodbye case %}`` put on a page what the confirmation email
says for the case's reason (what we heard, the customer's own words, who hears them) and the
good-bye package (docs/messages.md); the confirmation page (``done.html``) shows both.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def gc_link(text: Any, url: Any) -> str:
    """``text`` as a link to ``url`` (both escaped), or the escaped text without a url."""
    if url:
        return format_html('<a href="{}">{}</a>', url, text)
    return format_html("{}", text)


def _page_context(case: Any) -> dict[str, Any]:
    from ..followups.links import export_link
    from ..rendering import message_context

    return message_context(case, stage="confirmation", export_url=export_link(case))


@register.inclusion_tag("django_graceful_cancel/includes/heard.html")
def gc_heard(case: Any) -> dict[str, Any]:
    """What we heard from the customer (their reason, their own words, who hears them)."""
    return _page_context(case)


@register.inclusion_tag("django_graceful_cancel/includes/goodbye.html")
def gc_goodbye(case: Any) -> dict[str, Any]:
    """The good-bye package: what the customer keeps, their data, the site's gift."""
    return _page_context(case)
