"""The follow-up outbox: schedule, claim, send, sweep, stop.

Life of a row::

    scheduled --claim--> sending --send--> sent --tracking--> delivered --> opened
        ^                   |  \\--> bounced / failed (permanent error, or too many attempts)
        |                   |
        +--- transient error (exponential backoff), quiet hours, one-per-day limit
    scheduled --> cancelled (saved, reactivated, opted out, erased)
    sending  --> skipped   (opted out, no address, case no longer cancelled)

*Exactly once.* A row is claimed by moving it from "scheduled" to "sending" while it is locked
with ``SELECT ... FOR UPDATE SKIP LOCKED``: concurrent workers skip rows another worker holds
and never see them as "scheduled" again. The status change is also a conditional UPDATE, so
databases without row locks (SQLite) never claim a row twice either. Only a worker that dies
between handing a message to the provider and recording it leaves a row in "sending"; after
``FOLLOWUP_SENDING_TIMEOUT_MINUTES`` the sweep puts it back (the one case where a message can
go twice, documented in docs/followups.md).

*Nothing lost.* Rows are created in the transaction that confirms the cancellation. Rows due at
once are handed to the dispatcher (``dispatch.py``) on commit; if it cannot send them (the broker
is down), they simply wait for the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Greatest
from django.dispatch import Signal
from django.template import TemplateDoesNotExist
from django.utils import timezone

from .. import signals
from ..choices import CallTaskStatus, EventKind, FollowUpStatus
from ..conf import app_settings
from ..models import CallTask, CancellationCase, CaseEvent, FollowUp, OptOut
from ..rendering import render_message
from ..services import evidence
from ..services import outbox as outbox_engine
from ..services.core import Actor, record
from . import sequences
from .channels import ChannelError, get_channel
from .dispatch import BaseDispatcher, dispatch_on_commit
from .links import links_for
from .respect import not_before, refusal

logger = logging.getLogger("django_graceful_cancel")

#: Gives back the attempt a claim counted when nothing was tried after all.
_GIVE_BACK = Greatest(F("attempts") - 1, 0)


@dataclass(frozen=True)
class SendOutcome:
    status: str
    #: Seconds until the row is due again after a transient failure (the task retries then).
    retry_in: float | None = None


def record_followup(
    followup: FollowUp,
    kind: str,
    signal: Signal,
    *,
    actor: Actor,
    data: dict[str, Any],
    case: CancellationCase | None = None,
    **signal_kwargs: Any,
) -> CaseEvent:
    """Append the row's event to the timeline of its case (``case``, if the caller holds it)
    and send ``signal`` about the row.

    Follow-up signals are sent by ``FollowUp`` with ``followup`` and ``case`` (signals.py).
    """
    case = case if case is not None else followup.case
    event = record(case, kind, actor=actor, data=data)
    signal.send(sender=FollowUp, followup=followup, case=case, **signal_kwargs)
    return event


# --- scheduling --------------------------------------------------------------------------------


def schedule_sequence(
    case: CancellationCase, *, actor: Actor = None, first_time: bool = False
) -> list[FollowUp]:
    """Create the case's follow-up rows; call inside the transaction that cancels the case.

    Rows due now (the confirmation) are dispatched once the transaction commits, as
    ``FOLLOWUP_DISPATCH`` says. Scheduling twice creates nothing new.

    ``first_time``: the caller knows the case has no rows yet (it was open until now), so the
    rows are inserted without looking first; one row per stage is a constraint all the same.
    """
    existing: set[str] = (
        set()
        if first_time
        else set(FollowUp.objects.filter(case=case).values_list("stage", flat=True))
    )
    return save_sequence(plan_sequence(case, skip=existing))


def plan_sequence(case: CancellationCase, *, skip: Iterable[str] = ()) -> list[FollowUp]:
    """The case's follow-up rows, not saved (stages in ``skip`` left out); reads nothing."""
    now = timezone.now()
    skip = set(skip)
    return [
        FollowUp(
            case=case,
            customer_id=case.customer_id,
            stage=step.stage,
            template=step.template,
            channel=channel,
            due_at=due,
        )
        for step, channel, due in sequences.plan(case, start=now)
        if step.stage not in skip
    ]


def save_sequence(rows: list[FollowUp]) -> list[FollowUp]:
    """Insert planned rows in one statement; the ones due now leave once the transaction
    commits, as ``FOLLOWUP_DISPATCH`` says."""
    now = timezone.now()
    FollowUp.objects.bulk_create(rows)
    due_now = [row.pk for row in rows if row.due_at <= now and row.pk is not None]
    if due_now:
        dispatch_on_commit(due_now)
    return rows


def stop_sequence(case: CancellationCase, *, why: str, actor: Actor = None) -> int:
    """Cancel the case's rows that have not gone yet, and its open call tasks."""
    now = timezone.now()
    count = FollowUp.objects.filter(case=case, status=FollowUpStatus.SCHEDULED).update(
        status=FollowUpStatus.CANCELLED, last_error=why[:500], updated_at=now
    )
    CallTask.objects.filter(case=case, status=CallTaskStatus.OPEN).update(
        status=CallTaskStatus.CANCELLED
    )
    return count


def cancel_pending(case: CancellationCase, *, actor: Actor = None) -> int:
    """Staff or erasure stop every pending follow-up of the case."""
    return stop_sequence(case, why="cancelled", actor=actor)


class InlineDispatcher(BaseDispatcher):
    """Sends the rows in this process, right after the commit (``FOLLOWUP_DISPATCH = "inline"``)."""

    def dispatch(self, pks: list[int]) -> None:
        for pk in pks:
            try:
                send_followup(pk)
            except Exception:
                logger.exception("Follow-up %s could not be sent; the sweep retries it", pk)


# --- claiming and sending ----------------------------------------------------------------------


def claim_due(limit: int, *, now: datetime | None = None) -> list[int]:
    """Move up to ``limit`` due rows to "sending" and return their keys; rows locked by another
    worker are skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        candidates = list(
            FollowUp.objects.select_for_update(skip_locked=True)
            .filter(status=FollowUpStatus.SCHEDULED, due_at__lte=now)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return []
        if connection.features.has_select_for_update_skip_locked:
            # The rows are locked by us: one UPDATE claims them all.
            FollowUp.objects.filter(pk__in=candidates, status=FollowUpStatus.SCHEDULED).update(
                status=FollowUpStatus.SENDING,
                claimed_at=now,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
            return candidates
        return [pk for pk in candidates if _claim(pk, now)]


def _claim(pk: int, now: datetime) -> bool:
    return (
        FollowUp.objects.filter(pk=pk, status=FollowUpStatus.SCHEDULED, due_at__lte=now).update(
            status=FollowUpStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        == 1
    )


def claim_followup(pk: int, *, now: datetime | None = None) -> bool:
    """Claim one row if it is due and nobody holds it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            FollowUp.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=FollowUpStatus.SCHEDULED, due_at__lte=now)
            .values_list("pk", flat=True)
            .first()
        )
        return locked is not None and _claim(pk, now)


def send_followup(pk: int) -> SendOutcome:
    """Claim and send one row (idempotent: a row that is not due or not scheduled is left)."""
    now = timezone.now()
    if not claim_followup(pk, now=now):
        status = FollowUp.objects.filter(pk=pk).values_list("status", flat=True).first()
        return SendOutcome(status=status or "missing")
    return deliver(pk, claimed_at=now)


def sweep_followups(*, batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Send due rows in bounded batches; returns how many rows were handled."""
    return outbox_engine.sweep_batches(
        batch_size=batch_size or app_settings.FOLLOWUP_BATCH_SIZE,
        max_batches=max_batches or app_settings.FOLLOWUP_SWEEP_MAX_BATCHES,
        release_stale=release_stale,
        claim_due=claim_due,
        deliver=deliver,
        requeue_crashed=_requeue_crashed,
        label="Follow-up",
        prefetch=load_claimed,
    )


def _requeue_crashed(pk: int, claimed_at: datetime) -> None:
    """A row whose delivery raised: retried after the first back-off."""
    _requeue(pk, due_at=timezone.now() + timedelta(seconds=_backoff(1)), error="unexpected error")


def release_stale(*, now: datetime | None = None) -> int:
    """Put back rows left "sending" by a worker that died (see the module doc)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=app_settings.FOLLOWUP_SENDING_TIMEOUT_MINUTES)
    return FollowUp.objects.filter(status=FollowUpStatus.SENDING, claimed_at__lt=cutoff).update(
        status=FollowUpStatus.SCHEDULED, last_error="interrupted while sending", updated_at=now
    )


def due_followups(*, now: datetime | None = None) -> int:
    return FollowUp.objects.filter(
        status=FollowUpStatus.SCHEDULED, due_at__lte=now or timezone.now()
    ).count()


def _backoff(attempts: int) -> float:
    base = float(app_settings.FOLLOWUP_RETRY_BACKOFF_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), 6 * 3600.0)


def _requeue(pk: int, *, due_at: datetime, error: str, attempted: bool = True) -> None:
    """Back to "scheduled"; ``attempted=False`` when nothing was tried (quiet hours, spacing),
    so the attempt the claim counted is given back."""
    FollowUp.objects.filter(pk=pk, status=FollowUpStatus.SENDING).update(
        status=FollowUpStatus.SCHEDULED,
        due_at=due_at,
        last_error=error[:2000],
        updated_at=timezone.now(),
        **({} if attempted else {"attempts": _GIVE_BACK}),
    )


def _finish(
    followup: FollowUp,
    status: str,
    *,
    error: str = "",
    actor: Actor = "system",
    attempted: bool = True,
) -> None:
    updated = FollowUp.objects.filter(pk=followup.pk, status=FollowUpStatus.SENDING).update(
        status=status,
        last_error=error[:2000],
        updated_at=timezone.now(),
        **({} if attempted else {"attempts": _GIVE_BACK}),
    )
    if updated and status == FollowUpStatus.FAILED:
        record_followup(
            followup,
            EventKind.MESSAGE_STATUS,
            signals.followup_status_changed,
            actor=actor,
            data={
                "followup": followup.pk,
                "stage": followup.stage,
                "channel": followup.channel,
                "status": status,
                "error": error[:500],
            },
            status=status,
            event=None,
        )


def _with_case() -> Any:
    """Rows with their case and whether the customer opted out, in one query."""
    return FollowUp.objects.select_related(
        "case", "case__customer", "case__reason", "case__owner"
    ).annotate(
        is_opted_out=Exists(
            OptOut.objects.filter(
                customer_id=OuterRef("customer_id"), channel__in=["", OuterRef("channel")]
            )
        )
    )


def load_claimed(pks: list[int]) -> dict[int, FollowUp]:
    """A claimed batch, its cases and opt-outs, in one query (the sweep's ``prefetch``).

    Read right after the claim, so an opt-out recorded while the batch is sent is seen by the
    next batch; ``deliver`` reads a row on its own when it is not given one.
    """
    return {row.pk: row for row in _with_case().filter(pk__in=pks)}


def deliver(
    pk: int, *, claimed_at: datetime | None = None, loaded: FollowUp | None = None
) -> SendOutcome:
    """Send a row this worker has claimed ("sending") and record what happened.

    ``claimed_at`` is the claim's token: a row whose claim was released as stale and taken by
    another worker (``release_stale``) is left to that worker, so it is never sent twice.
    ``loaded``: the row as ``load_claimed`` read it with its batch (else it is read here).
    """
    # The row, its case and whether the customer opted out, in one query: the opt-out is read
    # at the last moment before sending (or with the batch, just after the claim).
    followup = loaded if loaded is not None else _with_case().get(pk=pk)
    if followup.status != FollowUpStatus.SENDING:
        return SendOutcome(status=followup.status)
    if claimed_at is not None and followup.claimed_at != claimed_at:
        return SendOutcome(status=followup.status)  # another worker holds it now
    case = followup.case
    now = timezone.now()
    refused = refusal(followup)
    if refused is not None:
        _finish(followup, refused[0], error=refused[1], attempted=False)
        return SendOutcome(status=refused[0])
    later = not_before(followup, now)
    if later is not None:
        _requeue(pk, due_at=later, error="", attempted=False)
        return SendOutcome(status=FollowUpStatus.SCHEDULED)
    try:
        channel = get_channel(followup.channel)
    except (ChannelError, ImportError) as error:
        _finish(followup, FollowUpStatus.FAILED, error=str(error))
        return SendOutcome(status=FollowUpStatus.FAILED)
    recipient = channel.recipient(followup)
    if not recipient:
        _finish(followup, FollowUpStatus.SKIPPED, error="no address for this channel")
        return SendOutcome(status=FollowUpStatus.SKIPPED)
    links = links_for(case, followup.channel, followup=followup)
    try:
        rendered = render_message(
            case,
            followup.template or followup.stage,
            channel=channel.render_as or followup.channel,
            extra_context={**links.as_context(), "followup": followup},
        )
    except TemplateDoesNotExist as error:
        _finish(followup, FollowUpStatus.FAILED, error=f"no template: {error}")
        return SendOutcome(status=FollowUpStatus.FAILED)
    attempts = followup.attempts  # counted when the row was claimed
    try:
        result = channel.send(followup, rendered, recipient=recipient, links=links)
    except ChannelError as error:
        return _failed_attempt(followup, attempts, str(error), transient=error.transient)
    except Exception as error:
        # An unknown failure in a channel backend: retry it like a transient one, bounded.
        logger.exception("Channel %s failed for follow-up %s", followup.channel, pk)
        return _failed_attempt(followup, attempts, repr(error), transient=True)
    with transaction.atomic():
        updated = FollowUp.objects.filter(
            pk=pk, status=FollowUpStatus.SENDING, claimed_at=followup.claimed_at
        ).update(
            status=FollowUpStatus.SENT,
            sent_at=timezone.now(),
            recipient=recipient[:254],
            provider_message_id=(result.message_id or "")[:255],
            source=rendered.source[:255],
            last_error="",
            updated_at=timezone.now(),
        )
        if updated:
            followup.status = FollowUpStatus.SENT
            followup.provider_message_id = result.message_id or ""
            record_followup(
                followup,
                EventKind.MESSAGE_SENT,
                signals.followup_sent,
                actor="system",
                data={
                    "followup": pk,
                    "stage": followup.stage,
                    "channel": followup.channel,
                    "attempts": attempts,
                },
            )
            # The acknowledgement exactly as sent, kept for the evidence record (templates
            # change; services/evidence.py).
            evidence.confirmation_sent(followup, rendered, case=case)
    return SendOutcome(status=FollowUpStatus.SENT)


def _failed_attempt(
    followup: FollowUp, attempts: int, error: str, *, transient: bool
) -> SendOutcome:
    if transient and attempts < app_settings.FOLLOWUP_MAX_ATTEMPTS:
        delay = _backoff(attempts)
        _requeue(followup.pk, due_at=timezone.now() + timedelta(seconds=delay), error=error)
        logger.warning(
            "Follow-up %s failed (attempt %s), retrying in %ss: %s",
            followup.pk,
            attempts,
            delay,
            error,
        )
        return SendOutcome(status=FollowUpStatus.SCHEDULED, retry_in=delay)
    _finish(followup, FollowUpStatus.FAILED, error=error)
    return SendOutcome(status=FollowUpStatus.FAILED)
