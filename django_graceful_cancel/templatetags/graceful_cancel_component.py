"""The drop-in web component in a template: ``{% load graceful_cancel_component %}``.

``{% graceful_cancel_script %}`` is the ``<script type="module">`` tag that defines
``<graceful-cancel-flow>``; ``{% graceful_cancel_component %}`` is the element itself, pointed at
the REST API where it is mounted, in the request's language, with a link to the server-rendered
flow as its fallback content (what the customer sees if the script never runs).
docs/web-component.md.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

#: The module, relative to the static files root.
SCRIPT = "django_graceful_cancel/graceful-cancel-flow.js"


@register.simple_tag
def graceful_cancel_script() -> SafeString:
    """``<script type="module" src=".../graceful-cancel-flow.js"></script>``: once per page."""
    return format_html('<script type="module" src="{}"></script>', static(SCRIPT))


def api_root() -> str:
    """Where the REST API is mounted (``/api/cancel/``), or "" when the site did not include it."""
    try:
        reasons = reverse("graceful_cancel_api:reason-list")
    except NoReverseMatch:
        return ""
    return reasons.removesuffix("reasons/")


def flow_url() -> str:
    """The server-rendered flow's first page, or "" when the site did not include the pages."""
    try:
        return reverse("graceful_cancel:start")
    except NoReverseMatch:
        return ""


@register.simple_tag
def graceful_cancel_component(
    account_url: str = "",
    reference: str = "",
    heading_level: int | str = 2,
    element_id: str = "",
    api: str = "",
) -> SafeString:
    """The ``<graceful-cancel-flow>`` element with its fallback link, e.g.

    ``{% graceful_cancel_component account_url="/account/" %}{% graceful_cancel_script %}``

    ``reference`` opens an existing case (a receipt to reactivate from); ``api`` overrides the
    mount point found by ``reverse``. Without the API mounted, only the fallback link is shown.
    """
    from ..compliance import rules_for

    fallback_href = flow_url()
    fallback = (
        format_html('<a href="{}">{}</a>', fallback_href, rules_for().heading)
        if fallback_href
        else ""
    )
    api = api or api_root()
    if not api:
        return format_html("{}", fallback)
    attributes = {
        "id": element_id,
        "api": api,
        "language": translation.get_language() or "",
        "account-url": account_url,
        "reference": reference,
        "heading-level": str(heading_level) if str(heading_level) != "2" else "",
    }
    rendered = format_html_join(
        "", ' {}="{}"', ((name, value) for name, value in attributes.items() if value)
    )
    return format_html("<graceful-cancel-flow{}>{}</graceful-cancel-flow>", rendered, fallback)
