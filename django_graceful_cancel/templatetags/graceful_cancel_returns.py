"""The come-back link on the receipt page (docs/returns.md): ``{% gc_comeback_url case as url %}``."""

from __future__ import annotations

from typing import Any

from django import template

from ..followups.links import comeback_link

register = template.Library()


@register.simple_tag
def gc_comeback_url(case: Any) -> str:
    """The case's signed come-back link once its cancellation has taken effect, or "" (before
    that the receipt offers the reactivation; and none when it cannot come back this way)."""
    if case is None or getattr(case, "pk", None) is None or case.can_reactivate:
        return ""
    return comeback_link(case, source="receipt")
