"""When a follow-up may go: never after an opt-out, not at night, not twice in a day.

``refusal`` says a row must not go at all; ``not_before`` says it must wait (waiting is not an
attempt). docs/followups.md ("Respect") describes the rules.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max

from ..choices import CaseStatus, FollowUpStatus, PauseState
from ..conf import app_settings
from ..models import CancellationCase, FollowUp, OptOut, Pause

#: The template of the pause reminder (services/pauses.py): sent on a saved case.
PAUSE_REMINDER = "pause_reminder"

#: Stages that are receipts rather than conversation: exempt from quiet hours and from the
#: one-message-per-day limit (they are still never sent after an opt-out).
TRANSACTIONAL_STAGES = frozenset({"confirmation"})


def opted_out(customer_id: int | None, channel: str) -> bool:
    if customer_id is None:
        return False
    return OptOut.objects.filter(customer_id=customer_id, channel__in=["", channel]).exists()


def refusal(followup: FollowUp) -> tuple[str, str] | None:
    """(status, why) when the row must not go at all."""
    case = followup.case
    if followup.template == PAUSE_REMINDER:
        # A pause reminder belongs to a saved case: it goes only while its pause runs.
        if not Pause.objects.filter(reminder_id=followup.pk, state=PauseState.PAUSED).exists():
            return FollowUpStatus.CANCELLED, "the pause is over"
    elif case.status != CaseStatus.CANCELLED:
        return FollowUpStatus.CANCELLED, f"case is {case.status}"
    if case.customer_id is None:
        return FollowUpStatus.SKIPPED, "no customer (erased)"
    is_opted_out = getattr(followup, "is_opted_out", None)
    if is_opted_out is None:
        is_opted_out = opted_out(case.customer_id, followup.channel)
    if is_opted_out:
        return FollowUpStatus.SKIPPED, "opted out"
    if followup.stage == "survey" and case.survey_answered_at is not None:
        # Answered already (the confirmation invites it): asking again would only nag.
        return FollowUpStatus.SKIPPED, "survey already answered"
    return None


def _time_zone(case: CancellationCase) -> zoneinfo.ZoneInfo:
    for name in (case.time_zone, settings.TIME_ZONE, "UTC"):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def quiet_until(case: CancellationCase, now: datetime) -> datetime | None:
    """End of the quiet hours in the customer's time zone, if ``now`` falls inside them."""
    hours = app_settings.FOLLOWUP_QUIET_HOURS
    if not hours:
        return None
    start, end = int(hours[0]), int(hours[1])
    if start == end:
        return None
    local = now.astimezone(_time_zone(case))
    hour = local.hour
    quiet = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if not quiet:
        return None
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake


def _spacing() -> timedelta:
    hours = float(app_settings.FOLLOWUP_MIN_INTERVAL_HOURS)
    scale = float(app_settings.FOLLOWUP_SECONDS_PER_DAY) / 86400
    return timedelta(hours=hours * scale)


def not_before(followup: FollowUp, now: datetime) -> datetime | None:
    """When the respect rules (quiet hours, one per day) allow this row, if not now."""
    if followup.stage in TRANSACTIONAL_STAGES:
        return None
    later: datetime | None = None
    spacing = _spacing()
    if spacing and followup.customer_id is not None:
        last = (
            FollowUp.objects.filter(customer_id=followup.customer_id, sent_at__isnull=False)
            .exclude(pk=followup.pk)
            .exclude(stage__in=TRANSACTIONAL_STAGES)
            .aggregate(last=Max("sent_at"))["last"]
        )
        if last is not None and last + spacing > now:
            later = last + spacing
    if followup.channel != "phone":
        # Staff choose when to call; a call task is not a message at night.
        quiet = quiet_until(followup.case, later or now)
        if quiet is not None:
            later = quiet
    return later
