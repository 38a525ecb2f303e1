"""The pause reminder's links and dates, for its message templates:
``{% load graceful_cancel_pause %}{% pause_reminder followup as pause %}``."""

from __future__ import annotations

from typing import Any

from django import template

from ..services import pauses

register = template.Library()


@register.simple_tag
def pause_reminder(followup: Any = None) -> pauses.ReminderLinks | None:
    """The reminder's pause: ``ends_at``, ``resume_url`` and ``extend_url`` (each "" when it
    would not work: no extension left, or a backend that cannot resume early) and
    ``cancel_url`` (the normal flow); None when the row belongs to no pause."""
    pause = pauses.pause_for_reminder(followup)
    return pauses.reminder_links(pause) if pause is not None else None
