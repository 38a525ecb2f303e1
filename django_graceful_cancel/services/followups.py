"""The follow-up outbox: schedule, claim, send, track, opt out, survey, stop.

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

*Nothing lost.* Rows are created in the transaction that confirms the cancellation. The send
task is enqueued on commit; if the broker is down the row simply waits for the next sweep.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef
from django.db.models.functions import Greatest
from django.template import TemplateDoesNotExist
from django.utils import timezone

from .. import sequences, signals
from ..channels import ChannelError, get_channel
from ..choices import CallTaskStatus, CaseStatus, EventKind, FollowUpStatus
from ..conf import app_settings
from ..exceptions import InvalidTransition
from ..models import CallTask, CancellationCase, DeliveryEvent, FollowUp, OptOut

logger = logging.getLogger("django_graceful_cancel")

Actor = Any

#: Stages that are receipts rather than conversation: exempt from quiet hours and from the
#: one-message-per-day limit (they are still never sent after an opt-out).
TRANSACTIONAL_STAGES = frozenset({"confirmation"})

#: Delivery progress; tracking never moves a row backwards (an "open" after a "delivered" is
#: progress, a late "delivered" after an "open" is not).
_PROGRESS = {
    FollowUpStatus.SENT: 1,
    FollowUpStatus.DELIVERED: 2,
    FollowUpStatus.OPENED: 3,
}


#: Gives back the attempt a claim counted when nothing was tried after all.
_GIVE_BACK = Greatest(F("attempts") - 1, 0)


@dataclass(frozen=True)
class SendOutcome:
    status: str
    #: Seconds until the row is due again after a transient failure (the task retries then).
    retry_in: float | None = None


# --- scheduling --------------------------------------------------------------------------------


def schedule_sequence(case: CancellationCase, *, actor: Actor = None) -> list[FollowUp]:
    """Create the case's follow-up rows; call inside the transaction that cancels the case.

    Rows due now (the confirmation) are dispatched once the transaction commits, as
    ``FOLLOWUP_DISPATCH`` says. Scheduling twice creates nothing new.
    """
    now = timezone.now()
    existing = set(FollowUp.objects.filter(case=case).values_list("stage", flat=True))
    rows = [
        FollowUp(
            case=case,
            customer_id=case.customer_id,
            stage=step.stage,
            template=step.template,
            channel=channel,
            due_at=due,
        )
        for step, channel, due in sequences.plan(case, start=now)
        if step.stage not in existing
    ]
    FollowUp.objects.bulk_create(rows)
    due_now = [row.pk for row in rows if row.due_at <= now and row.pk is not None]
    if due_now:
        dispatch_on_commit(due_now)
    return rows


def dispatch_on_commit(pks: list[int]) -> None:
    mode = app_settings.FOLLOWUP_DISPATCH
    if mode == "sweep":
        return

    def dispatch() -> None:
        for pk in pks:
            if mode == "inline":
                try:
                    send_followup(pk)
                except Exception:
                    logger.exception("Follow-up %s could not be sent; the sweep retries it", pk)
            else:
                enqueue_followup(pk)

    transaction.on_commit(dispatch)


def enqueue_followup(pk: int) -> bool:
    """Hand a row to Celery; a broker failure is logged and the sweep sends the row later."""
    from ..tasks import send_followup as task

    try:
        # A short publish retry: the web request waiting on a dead broker helps nobody.
        task.apply_async(
            (pk,),
            retry=True,
            retry_policy={
                "max_retries": 2,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            },
        )
    except Exception as error:  # noqa: BLE001  (any broker failure: the sweep is the fallback)
        logger.warning("Could not enqueue follow-up %s (%s); the sweep will send it", pk, error)
        return False
    return True


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
    batch_size = batch_size or app_settings.FOLLOWUP_BATCH_SIZE
    max_batches = max_batches or app_settings.FOLLOWUP_SWEEP_MAX_BATCHES
    release_stale()
    handled = 0
    for _ in range(max_batches):
        claimed_at = timezone.now()
        pks = claim_due(batch_size, now=claimed_at)
        if not pks:
            break
        for pk in pks:
            try:
                deliver(pk, claimed_at=claimed_at)
            except Exception:
                logger.exception("Follow-up %s failed unexpectedly", pk)
                _requeue(
                    pk,
                    due_at=timezone.now() + timedelta(seconds=_backoff(1)),
                    error="unexpected error",
                )
            handled += 1
    return handled


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
        followup.case.log(
            EventKind.MESSAGE_STATUS,
            actor=actor,
            data={
                "followup": followup.pk,
                "stage": followup.stage,
                "channel": followup.channel,
                "status": status,
                "error": error[:500],
            },
        )
        signals.followup_status_changed.send(
            sender=FollowUp, followup=followup, case=followup.case, status=status, event=None
        )


def opted_out(customer_id: int | None, channel: str) -> bool:
    if customer_id is None:
        return False
    return OptOut.objects.filter(customer_id=customer_id, channel__in=["", channel]).exists()


def _why_not(followup: FollowUp) -> tuple[str, str] | None:
    """(status, why) when the row must not go at all."""
    case = followup.case
    if case.status != CaseStatus.CANCELLED:
        return FollowUpStatus.CANCELLED, f"case is {case.status}"
    if case.customer_id is None:
        return FollowUpStatus.SKIPPED, "no customer (erased)"
    is_opted_out = getattr(followup, "is_opted_out", None)
    if is_opted_out is None:
        is_opted_out = opted_out(case.customer_id, followup.channel)
    if is_opted_out:
        return FollowUpStatus.SKIPPED, "opted out"
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


def _not_before(followup: FollowUp, now: datetime) -> datetime | None:
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


def deliver(pk: int, *, claimed_at: datetime | None = None) -> SendOutcome:
    """Send a row this worker has claimed ("sending") and record what happened.

    ``claimed_at`` is the claim's token: a row whose claim was released as stale and taken by
    another worker (``release_stale``) is left to that worker, so it is never sent twice.
    """
    from ..links import links_for
    from ..rendering import render_message

    # The row, its case and whether the customer opted out, in one query: the opt-out is read
    # at the last moment before sending.
    followup = (
        FollowUp.objects.select_related("case", "case__customer", "case__reason", "case__owner")
        .annotate(
            is_opted_out=Exists(
                OptOut.objects.filter(
                    customer_id=OuterRef("customer_id"), channel__in=["", OuterRef("channel")]
                )
            )
        )
        .get(pk=pk)
    )
    if followup.status != FollowUpStatus.SENDING:
        return SendOutcome(status=followup.status)
    if claimed_at is not None and followup.claimed_at != claimed_at:
        return SendOutcome(status=followup.status)  # another worker holds it now
    case = followup.case
    now = timezone.now()
    refused = _why_not(followup)
    if refused is not None:
        _finish(followup, refused[0], error=refused[1], attempted=False)
        return SendOutcome(status=refused[0])
    later = _not_before(followup, now)
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
    links = links_for(case, followup.channel)
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
            case.log(
                EventKind.MESSAGE_SENT,
                actor="system",
                data={
                    "followup": pk,
                    "stage": followup.stage,
                    "channel": followup.channel,
                    "attempts": attempts,
                },
            )
            signals.followup_sent.send(sender=FollowUp, followup=followup, case=case)
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


# --- delivery tracking -------------------------------------------------------------------------

#: anymail event type -> the row's new status (None: no status change).
_TRACKED = {
    "delivered": FollowUpStatus.DELIVERED,
    "opened": FollowUpStatus.OPENED,
    "clicked": FollowUpStatus.OPENED,
    "bounced": FollowUpStatus.BOUNCED,
    "rejected": FollowUpStatus.FAILED,
    "failed": FollowUpStatus.FAILED,
    "complained": None,
    "unsubscribed": None,
}


def _find_followup(event: Any) -> FollowUp | None:
    metadata = getattr(event, "metadata", None) or {}
    raw = metadata.get("followup")
    if raw is not None and str(raw).isdigit():
        found = FollowUp.objects.filter(pk=int(raw)).first()
        if found is not None:
            return found
    message_id = getattr(event, "message_id", None)
    if message_id:
        return FollowUp.objects.filter(provider_message_id=message_id).first()
    return None


def _is_hard_bounce(event: Any) -> bool:
    esp_event = getattr(event, "esp_event", None)
    # Postmark reports soft bounces as "bounced" too; they say nothing about the address.
    return not (isinstance(esp_event, dict) and esp_event.get("Type") == "SoftBounce")


def record_tracking_event(event: Any, *, esp_name: str = "") -> FollowUp | None:
    """Apply an anymail ``AnymailTrackingEvent`` to its row; replays (same event id) do nothing.

    Returns the row, or None when the event is not ours, not tracked, or already applied.
    """
    event_type = str(getattr(event, "event_type", "") or "")
    if event_type not in _TRACKED:
        return None
    followup = _find_followup(event)
    if followup is None:
        return None
    event_id = str(getattr(event, "event_id", "") or "")
    with transaction.atomic():
        if event_id:
            try:
                with transaction.atomic():
                    DeliveryEvent.objects.create(
                        followup=followup,
                        esp_name=esp_name[:64],
                        event_id=event_id[:255],
                        event_type=event_type[:32],
                    )
            except IntegrityError:
                return None  # already applied
        row = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("case", "case__customer")
            .get(pk=followup.pk)
        )
        case = row.case
        new_status = _TRACKED[event_type]
        if event_type == "bounced" and not _is_hard_bounce(event):
            new_status = None
        changed = False
        if new_status is not None and _moves_forward(row.status, new_status):
            now = timezone.now()
            fields: dict[str, Any] = {"status": new_status, "updated_at": now}
            if new_status == FollowUpStatus.DELIVERED:
                fields["delivered_at"] = getattr(event, "timestamp", None) or now
            elif new_status == FollowUpStatus.OPENED:
                fields["opened_at"] = getattr(event, "timestamp", None) or now
            elif new_status in (FollowUpStatus.BOUNCED, FollowUpStatus.FAILED):
                fields["last_error"] = str(
                    getattr(event, "description", "") or getattr(event, "mta_response", "") or ""
                )[:2000]
            FollowUp.objects.filter(pk=row.pk).update(**fields)
            for name, value in fields.items():
                setattr(row, name, value)
            changed = True
            case.log(
                EventKind.MESSAGE_STATUS,
                actor=f"esp:{esp_name}"[:64] if esp_name else "system",
                data={
                    "followup": row.pk,
                    "stage": row.stage,
                    "channel": row.channel,
                    "status": new_status,
                    "event": event_type,
                },
            )
        if changed:
            signals.followup_status_changed.send(
                sender=FollowUp, followup=row, case=case, status=row.status, event=event
            )
        stops = event_type in ("complained", "unsubscribed") or (
            event_type == "bounced" and new_status == FollowUpStatus.BOUNCED
        )
        if stops and row.customer_id is not None:
            opt_out(
                row.customer_id,
                channel=row.channel,
                source={"bounced": "bounce", "complained": "complaint"}.get(
                    event_type, "unsubscribe"
                ),
                case=case,
                actor=f"esp:{esp_name}"[:64] if esp_name else "system",
            )
    return row


def _moves_forward(current: str, new: str) -> bool:
    if current in (FollowUpStatus.BOUNCED, FollowUpStatus.FAILED):
        return False
    if new in (FollowUpStatus.BOUNCED, FollowUpStatus.FAILED):
        return current in _PROGRESS
    if current not in _PROGRESS:
        return False
    return _PROGRESS[new] > _PROGRESS[current]


# --- the customer's answers --------------------------------------------------------------------


def opt_out(
    customer: Any,
    *,
    channel: str = "",
    source: str = "link",
    case: CancellationCase | None = None,
    actor: Actor = None,
) -> bool:
    """Stop follow-ups to the customer on ``channel`` (or on all with ``""``).

    Pending rows are cancelled at once; anything already claimed is skipped at send time.
    Returns whether this was a new opt-out (a repeated click changes nothing).
    """
    customer_id = customer if isinstance(customer, int) else customer.pk
    with transaction.atomic():
        _, created = OptOut.objects.get_or_create(
            customer_id=customer_id, channel=channel or "", defaults={"source": source[:32]}
        )
        if not created:
            return False
        pending = FollowUp.objects.filter(customer_id=customer_id, status=FollowUpStatus.SCHEDULED)
        if channel:
            pending = pending.filter(channel=channel)
        pending.update(
            status=FollowUpStatus.CANCELLED, last_error="opted out", updated_at=timezone.now()
        )
        if case is None:
            case = (
                CancellationCase.objects.filter(customer_id=customer_id)
                .order_by("-created_at")
                .first()
            )
        if case is not None:
            case.log(
                EventKind.OPTED_OUT,
                actor=actor,
                data={"channel": channel or "all", "source": source},
            )
        signals.opted_out.send(
            sender=OptOut,
            customer_id=customer_id,
            channel=channel or "",
            source=source,
            case=case,
            actor=actor,
        )
    return True


def answer_survey(
    case: CancellationCase | int, *, score: int, comment: str = "", actor: Actor = None
) -> CancellationCase:
    """Record the satisfaction survey (score 0-10 and an optional comment) on the case, once."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidTransition(code="invalid_score")
    with transaction.atomic():
        pk = case.pk if isinstance(case, CancellationCase) else case
        case = CancellationCase.objects.select_for_update().get(pk=pk)
        if case.status == CaseStatus.OPEN:
            raise InvalidTransition(code="case_open")
        if case.survey_answered_at is not None:
            raise InvalidTransition(code="survey_already_answered")
        case.survey_score = score
        # The link page posts the comment without a form: drop NUL (PostgreSQL text cannot
        # hold it, and it would be a 500).
        case.survey_comment = (comment or "").replace("\x00", "").strip()[:5000]
        case.survey_answered_at = timezone.now()
        case.save(update_fields=["survey_score", "survey_comment", "survey_answered_at"])
        case.log(EventKind.SURVEY_ANSWERED, actor=actor, data={"score": score})
        signals.survey_answered.send(
            sender=CancellationCase,
            case=case,
            actor=actor,
            score=score,
            comment=case.survey_comment,
        )
    return case


def complete_call(
    case: CancellationCase | int, *, actor: Actor, outcome: str = ""
) -> list[CallTask]:
    """Close the case's open call tasks; their follow-ups count as delivered.

    The timeline's "call done" event belongs to the staff action that calls this
    (``services.mark_call_done``); this records the delivery of each call follow-up.
    """
    pk = case.pk if isinstance(case, CancellationCase) else case
    with transaction.atomic():
        tasks = list(
            # of=("self",): PostgreSQL cannot lock the nullable side of the follow-up outer join.
            CallTask.objects.select_for_update(of=("self",))
            .filter(case_id=pk, status=CallTaskStatus.OPEN)
            .select_related("case", "followup")
        )
        if not tasks:
            raise InvalidTransition(code="no_call_pending")
        now = timezone.now()
        for task in tasks:
            task.status = CallTaskStatus.DONE
            task.done_at = now
            task.outcome = (outcome or "").strip()[:5000]
            task.save(update_fields=["status", "done_at", "outcome"])
            if task.followup_id is None:
                continue
            # Only a follow-up still "sent" moves: one cancelled or already delivered since the
            # task was made changes nothing, so it gets no event and no signal either.
            delivered = FollowUp.objects.filter(
                pk=task.followup_id, status=FollowUpStatus.SENT
            ).update(status=FollowUpStatus.DELIVERED, delivered_at=now, updated_at=now)
            if not delivered:
                continue
            followup = task.followup
            followup.status = FollowUpStatus.DELIVERED
            followup.delivered_at = followup.updated_at = now
            task.case.log(
                EventKind.MESSAGE_STATUS,
                actor=actor,
                data={
                    "followup": task.followup_id,
                    "stage": task.stage,
                    "channel": "phone",
                    "status": FollowUpStatus.DELIVERED,
                },
            )
            signals.followup_status_changed.send(
                sender=FollowUp,
                followup=followup,
                case=task.case,
                status=FollowUpStatus.DELIVERED,
                event=None,
            )
    return tasks
