"""State changes made from the retention desk: notes, calls, follow-ups and save checks.

Like ``services/cases.py``, made of the moves in ``services.core``: one transaction each, the case
row locked, one timeline event and one signal per change, and the staff member recorded as the
actor. Offer experiments are in ``services/experiments.py``, export, erasure and purge in
``services/privacy.py``.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .. import signals
from ..backends import get_backend
from ..choices import CaseStatus, EventKind
from ..conf import app_settings
from ..exceptions import BackendError, InvalidTransition
from ..followups import actions, outbox
from ..models import CancellationCase, SaveCheck, StaffNote
from .core import Actor, lock_case, record

logger = logging.getLogger("django_graceful_cancel")


# --- notes and calls ---------------------------------------------------------------------------


def add_note(case: CancellationCase | int, body: str, *, actor: Actor) -> StaffNote:
    """Add a staff note to the case (any status: notes are how staff remember what was tried)."""
    body = (body or "").strip()
    if not body:
        raise InvalidTransition(code="empty_note")
    with transaction.atomic():
        case = lock_case(case)
        note = StaffNote.objects.create(
            case=case, author=actor if getattr(actor, "pk", None) else None, body=body[:5000]
        )
        record(
            case,
            EventKind.NOTE_ADDED,
            signals.note_added,
            actor=actor,
            data={"note": note.pk},
            note=note,
        )
    return note


def mark_call_done(
    case: CancellationCase | int, *, outcome: str = "", actor: Actor
) -> CancellationCase:
    """Record that staff called the customer who asked for a call.

    When the follow-up outbox has a pending phone task for the case, that task is completed
    through its own service too.
    """
    with transaction.atomic():
        case = lock_case(case)
        outcome = (outcome or "").strip()[:500]
        if outcome:
            StaffNote.objects.create(
                case=case, author=actor if getattr(actor, "pk", None) else None, body=outcome
            )
        record(
            case,
            EventKind.CALL_DONE,
            signals.call_done,
            actor=actor,
            data={"outcome": outcome},
            outcome=outcome,
        )
        _complete_call_tasks(case, actor, outcome)
    return case


def _complete_call_tasks(case: CancellationCase, actor: Actor, outcome: str) -> None:
    # No call task pending is fine: the call was staff's own initiative.
    with contextlib.suppress(InvalidTransition):
        actions.complete_call(case, actor=actor, outcome=outcome)


def schedule_followups(case: CancellationCase | int, *, actor: Actor) -> int:
    """Schedule a cancelled case's follow-up sequence (stages already scheduled are kept)."""
    with transaction.atomic():
        case = lock_case(case)
        if case.status != CaseStatus.CANCELLED:
            raise InvalidTransition(code="case_not_cancelled")
        rows = outbox.schedule_sequence(case, actor=actor)
        record(
            case,
            EventKind.FOLLOWUPS_SCHEDULED,
            signals.followups_scheduled,
            actor=actor,
            data={"stages": [row.stage for row in rows]},
            followups=rows,
        )
    return len(rows)


def cancel_followups(case: CancellationCase | int, *, actor: Actor) -> int:
    """Cancel the case's follow-ups not sent yet, and its open call tasks."""
    with transaction.atomic():
        case = lock_case(case)
        count = outbox.cancel_pending(case, actor=actor)
        record(
            case,
            EventKind.FOLLOWUPS_CANCELLED,
            signals.followups_cancelled,
            actor=actor,
            data={"cancelled": count},
            cancelled=count,
        )
    return count


# --- save checks -------------------------------------------------------------------------------


def due_save_checks(limit: int = 500) -> list[tuple[int, int]]:
    """``(case pk, days)`` pairs whose check is due: saved at least N days ago, not checked yet."""
    now = timezone.now()
    pairs: list[tuple[int, int]] = []
    for days in sorted(set(app_settings.SAVE_CHECK_DAYS)):
        remaining = limit - len(pairs)
        if remaining <= 0:
            break
        pks = (
            CancellationCase.objects.filter(
                status=CaseStatus.SAVED, saved_at__lte=now - timedelta(days=days)
            )
            .exclude(save_checks__days=days)
            .exclude(subscription_ref__startswith="erased:")
            .order_by("saved_at")
            .values_list("pk", flat=True)[:remaining]
        )
        pairs.extend((pk, days) for pk in pks)
    return pairs


def check_save(case: CancellationCase | int, days: int, *, actor: Actor = "system") -> SaveCheck:
    """Ask the subscription backend whether the saved customer is still subscribed (idempotent).

    A backend error propagates (the check stays due and the next sweep retries it).
    """
    pk = case.pk if isinstance(case, CancellationCase) else case
    existing = SaveCheck.objects.filter(case_id=pk, days=days).first()
    if existing is not None:
        return existing
    reference = CancellationCase.objects.values_list("subscription_ref", flat=True).get(pk=pk)
    info = get_backend().get_subscription(reference)
    active = bool(info is not None and info.is_active and not info.cancel_at_period_end)
    with transaction.atomic():
        locked = lock_case(pk)
        check, created = SaveCheck.objects.get_or_create(
            case=locked, days=days, defaults={"still_active": active}
        )
        if created:
            record(
                locked,
                EventKind.SAVE_CHECKED,
                signals.save_checked,
                actor=actor,
                data={"days": days, "still_active": active},
                check=check,
            )
    return check


def run_save_checks(limit: int = 500) -> int:
    """Run the due save checks; returns how many were recorded."""
    done = 0
    for pk, days in due_save_checks(limit):
        try:
            check_save(pk, days)
        except BackendError as error:
            logger.warning("Save check of case %s at %s days failed: %s", pk, days, error)
            continue
        done += 1
    return done
