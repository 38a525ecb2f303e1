"""The come-back link on the receipt page (docs/returns.md): ``{% gc_comeback_url case as url %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext, npgettext

from ..followups.links import comeback_link
from ..intervals import parse_interval

register = template.Library()


@register.simple_tag
def gc_comeback_url(case: Any) -> str:
    """The case's signed come-back link once its cancellation has taken effect, or "" (before
    that the receipt offers the reactivation; and none when it cannot come back this way)."""
    if case is None or getattr(case, "pk", None) is None or case.can_reactivate:
        return ""
    return comeback_link(case, source="receipt")


@register.filter
def gc_interval(interval: Any) -> str:
    """A billing interval as the customer reads it: "per month", "every 3 months"; "" when the
    backend knows none (the page then says nothing rather than invent one). An interval no
    unit matches is shown as written ("per term")."""
    text = str(interval or "").strip()
    parsed = parse_interval(text)
    if parsed is None:
        return gettext("per %(interval)s") % {"interval": text} if text else ""
    count, unit = parsed
    # One call per unit, each with its literal words and context ("per month" of a price, not
    # of anything else): makemessages reads them from here.
    if unit == "day":
        words = npgettext("billing interval", "per day", "every %(count)s days", count)
    elif unit == "week":
        words = npgettext("billing interval", "per week", "every %(count)s weeks", count)
    elif unit == "quarter":
        words = npgettext("billing interval", "per quarter", "every %(count)s quarters", count)
    elif unit == "year":
        words = npgettext("billing interval", "per year", "every %(count)s years", count)
    else:
        words = npgettext("billing interval", "per month", "every %(count)s months", count)
    return words % {"count": count}
