"""The outbound outbox: webhook events and staff alerts, written with the change, sent after it.

Life of a row::

    pending --claim--> sending --2xx--> delivered
       ^                  |  \\--> failed (attempts used up, or a failure that cannot be retried)
       |                  |   \\--> skipped (an alert with nobody to send to)
       +-- failure: back-off (WEBHOOK_RETRY_BACKOFF_SECONDS, doubled each time, at most 6 hours)
    failed / delivered --"send again" (staff)--> pending

*Written with the change.* ``enqueue_for_event`` is called by ``services.core.record`` right after
the timeline event is written, inside the same transaction: a change that rolls back leaves no
row, and a committed change always has its rows. Nothing here does network I/O in that
transaction; the rows leave after the commit (``dispatch.py``) or with the next sweep.

*In order per endpoint and case.* A row is claimed only when no earlier row of the same endpoint
and ``ordering_key`` (``"case:<pk>"``) is still pending or sending: while an endpoint fails, the
case's later events wait behind the first one, and leave in order once it recovers. A row that
gave up (failed) no longer holds the others back.

*Exactly once, as far as HTTP allows.* A row is claimed by a conditional UPDATE (under ``SELECT
... FOR UPDATE SKIP LOCKED`` where the database has it), so two workers never send it at once.
Only a worker that dies between the endpoint's answer and recording it leaves a row "sending";
after ``WEBHOOK_SENDING_TIMEOUT_MINUTES`` the sweep sends it again, with the same ``webhook-id``,
so the receiver can drop the repeat.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from ..alerts import rules as alert_rules
from ..alerts.channels import AlertChannelError, get_alert_channel
from ..choices import DeliveryStatus
from ..conf import app_settings
from ..followups.dispatch import BaseDispatcher
from ..models import (
    CancellationCase,
    CancellationDeclaration,
    CaseEvent,
    OutboundDelivery,
    WebhookEndpoint,
    catalogue_cache,
)
from ..models.cases import describe_actor
from ..models.webhooks import new_webhook_secret
from ..services import outbox as outbox_engine
from . import events, signing, transport
from .dispatch import dispatch_now, dispatch_on_commit

logger = logging.getLogger("django_graceful_cancel")

#: The channel of webhook rows; alert rows carry the alert channel's name.
WEBHOOK = "webhook"
#: States that hold the later rows of a chain back.
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
#: The longest wait between two attempts.
MAX_BACKOFF_SECONDS = 6 * 3600.0
#: Gives back the attempt a claim counted when nothing was tried after all.
_GIVE_BACK = Greatest(F("attempts") - 1, 0)


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    #: Seconds until the row is due again after a failure (a Celery task retries then).
    retry_in: float | None = None
    #: The next row of the same chain, free to go now: hand it to the dispatcher.
    successor: int | None = None


def new_event_id() -> str:
    """A new event id (the ``webhook-id`` header): unique, and the same for every attempt."""
    return f"msg_{secrets.token_urlsafe(18)}"


# --- writing rows (inside the caller's transaction) ---------------------------------------------


def enqueue_for_event(case: CancellationCase, event: CaseEvent) -> list[OutboundDelivery]:
    """Write the deliveries the timeline ``event`` makes: one per subscribed active endpoint and
    webhook event type, one per staff alert and channel; dispatched once the transaction commits.

    ``services.core.record`` calls this right after writing the event. An event no webhook type
    or alert rule reads costs no query; one that does reads the active endpoints from memory,
    plus one INSERT when some endpoint or rule wants it (the active endpoints are cached).
    """
    rows: list[OutboundDelivery] = []
    types = events.types_for(event)
    if types:
        # The active endpoints come from the cached catalogue (models/catalogue_cache.py): a
        # site with none subscribed pays no query per event (issue 19).
        endpoints = catalogue_cache.active_endpoints()
        for event_type in types:
            targets = [e for e in endpoints if e.wants(event_type.name)]
            if not targets:
                continue
            payload = events.event_payload(event_type, case, event)
            rows.extend(_webhook_rows(targets, case, f"case:{case.pk}", event_type.name, payload))
    for alert in alert_rules.alerts_for_event(case, event):
        rows.extend(_alert_rows(alert, case))
    return _save(rows)


def _webhook_rows(
    endpoints: list[WebhookEndpoint],
    case: CancellationCase | None,
    ordering_key: str,
    event_type: str,
    payload: dict[str, Any],
) -> list[OutboundDelivery]:
    """One row per endpoint for one event, all with the same new event id."""
    event_id = new_event_id()
    return [
        OutboundDelivery(
            channel=WEBHOOK,
            endpoint=endpoint,
            case=case,
            ordering_key=ordering_key,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
        )
        for endpoint in endpoints
    ]


def enqueue_for_declaration(
    declaration: CancellationDeclaration, event_type: str
) -> list[OutboundDelivery]:
    """Write the deliveries of a declaration event (``declaration.received`` or
    ``declaration.disputed``, sent by the declaration signals) and, for a dispute, its alert."""
    kind = events.BY_NAME[event_type]
    case = declaration.case
    key = f"case:{case.pk}" if case is not None else f"declaration:{declaration.pk}"
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(active=True).order_by("pk") if e.wants(kind.name)
    ]
    rows: list[OutboundDelivery] = []
    if endpoints:
        payload = events.declaration_payload(kind, declaration, at=timezone.now())
        rows.extend(_webhook_rows(endpoints, case, key, kind.name, payload))
    if event_type == "declaration.disputed":
        for alert in alert_rules.alerts_for_dispute(declaration):
            rows.extend(_alert_rows(alert, case))
    return _save(rows)


def _alert_rows(alert: alert_rules.Alert, case: CancellationCase | None) -> list[OutboundDelivery]:
    event_id = new_event_id()
    return [
        OutboundDelivery(
            channel=channel,
            case=case,
            event_id=event_id,
            event_type=alert.rule,
            payload=alert.facts,
        )
        for channel in alert.channels
    ]


def _save(rows: list[OutboundDelivery]) -> list[OutboundDelivery]:
    if not rows:
        return rows
    OutboundDelivery.objects.bulk_create(rows)
    dispatch_on_commit([row.pk for row in rows if row.pk is not None])
    return rows


# --- claiming ------------------------------------------------------------------------------------


def _earlier_unfinished() -> Exists:
    return Exists(
        OutboundDelivery.objects.filter(
            endpoint=OuterRef("endpoint"),
            ordering_key=OuterRef("ordering_key"),
            pk__lt=OuterRef("pk"),
            status__in=UNFINISHED,
        )
    )


def claimable(now: datetime) -> QuerySet[OutboundDelivery]:
    """Pending rows that are due, whose endpoint (if any) is active, and with no earlier row of
    their chain still to go. (Alert rows have no endpoint and no chain.)"""
    return (
        OutboundDelivery.objects.filter(status=DeliveryStatus.PENDING, due_at__lte=now)
        .filter(Q(endpoint__isnull=True) | Q(endpoint__active=True))
        .filter(~_earlier_unfinished())
    )


def _claim(pk: int, now: datetime) -> bool:
    return (
        OutboundDelivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        == 1
    )


def claim_due(limit: int, *, now: datetime | None = None) -> list[int]:
    """Move up to ``limit`` claimable rows to "sending", oldest first; rows another worker holds
    are skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        candidates = list(
            claimable(now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return []
        if connection.features.has_select_for_update_skip_locked:
            OutboundDelivery.objects.filter(
                pk__in=candidates, status=DeliveryStatus.PENDING
            ).update(
                status=DeliveryStatus.SENDING,
                claimed_at=now,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
            return candidates
        return [pk for pk in candidates if _claim(pk, now)]


def claim_delivery(pk: int, *, now: datetime | None = None) -> bool:
    """Claim one row if it is claimable and nobody holds it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            claimable(now)
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk)
            .values_list("pk", flat=True)
            .first()
        )
        return locked is not None and _claim(pk, now)


# --- sending -------------------------------------------------------------------------------------


def send_delivery(pk: int, *, timeout: float | None = None) -> DeliveryOutcome:
    """Claim and send one row; a row that is not due, waits behind an earlier one, or is held
    by another worker is left as it is (safe to call twice)."""
    now = timezone.now()
    if not claim_delivery(pk, now=now):
        status = OutboundDelivery.objects.filter(pk=pk).values_list("status", flat=True).first()
        return DeliveryOutcome(status=status or "missing")
    return deliver(pk, claimed_at=now, timeout=timeout)


def deliver(
    pk: int, *, claimed_at: datetime | None = None, timeout: float | None = None
) -> DeliveryOutcome:
    """Send a row this worker has claimed ("sending") and record what happened.

    ``claimed_at`` is the claim's token: a row released as stale and claimed again by another
    worker is left to that worker.
    """
    row = (
        OutboundDelivery.objects.select_related("endpoint", "case", "case__owner")
        .filter(pk=pk)
        .first()
    )
    if row is None:
        return DeliveryOutcome(status="missing")
    if row.status != DeliveryStatus.SENDING or (
        claimed_at is not None and row.claimed_at != claimed_at
    ):
        return DeliveryOutcome(status=row.status)
    timeout = timeout or float(app_settings.WEBHOOK_TIMEOUT_SECONDS)
    if row.channel == WEBHOOK:
        return _deliver_webhook(row, timeout)
    return _deliver_alert(row, timeout)


def _deliver_webhook(row: OutboundDelivery, timeout: float) -> DeliveryOutcome:
    endpoint = row.endpoint
    if endpoint is None or not endpoint.active:
        # Switched off since the claim: the row waits for the endpoint to come back.
        _requeue(row, due_at=timezone.now(), error="endpoint inactive", attempted=False)
        return DeliveryOutcome(status=DeliveryStatus.PENDING)
    data = signing.body(row.payload)
    try:
        headers = signing.signed_headers(endpoint.secret, event_id=row.event_id, data=data)
    except Exception as error:  # noqa: BLE001  (a secret the library refuses: staff must fix it)
        return _failed(row, None, f"cannot sign with this secret: {error}", transient=False)
    result = transport.post(endpoint.url, data, headers=headers, timeout=timeout)
    if result.ok:
        return _succeeded(row, DeliveryStatus.DELIVERED, result.status_code)
    return _failed(row, result.status_code, result.error, transient=True)


def _deliver_alert(row: OutboundDelivery, timeout: float) -> DeliveryOutcome:
    try:
        channel = get_alert_channel(row.channel)
        result = channel.send(row, timeout=timeout)
    except AlertChannelError as error:
        return _failed(row, error.status_code, str(error), transient=error.transient)
    except ImportError as error:
        return _failed(row, None, f"cannot import the channel: {error}", transient=False)
    except Exception as error:
        # An unknown failure in a channel backend: retry it like a transient one, bounded.
        logger.exception("Alert channel %s failed for delivery %s", row.channel, row.pk)
        return _failed(row, None, repr(error), transient=True)
    return _succeeded(row, result.status, result.response_code, note=result.note)


def _succeeded(
    row: OutboundDelivery, status: str, code: int | None, *, note: str = ""
) -> DeliveryOutcome:
    now = timezone.now()
    OutboundDelivery.objects.filter(
        pk=row.pk, status=DeliveryStatus.SENDING, claimed_at=row.claimed_at
    ).update(
        status=status,
        delivered_at=now if status == DeliveryStatus.DELIVERED else None,
        response_code=code,
        last_error=note[:2000],
        updated_at=now,
    )
    return DeliveryOutcome(status=status, successor=_successor(row))


def _failed(
    row: OutboundDelivery, code: int | None, error: str, *, transient: bool
) -> DeliveryOutcome:
    if transient and row.attempts < app_settings.WEBHOOK_MAX_ATTEMPTS:
        delay = backoff(row.attempts)
        _requeue(row, due_at=timezone.now() + timedelta(seconds=delay), error=error, code=code)
        logger.warning(
            "Delivery %s (%s to %s) failed, attempt %s; retrying in %ss: %s",
            row.pk,
            row.event_type,
            row.endpoint.url if row.endpoint is not None else row.channel,
            row.attempts,
            delay,
            error,
        )
        return DeliveryOutcome(status=DeliveryStatus.PENDING, retry_in=delay)
    OutboundDelivery.objects.filter(
        pk=row.pk, status=DeliveryStatus.SENDING, claimed_at=row.claimed_at
    ).update(
        status=DeliveryStatus.FAILED,
        response_code=code,
        last_error=error[:2000],
        updated_at=timezone.now(),
    )
    logger.error("Delivery %s (%s) failed for good: %s", row.pk, row.event_type, error)
    # A row that gave up no longer holds the rest of its chain back.
    return DeliveryOutcome(status=DeliveryStatus.FAILED, successor=_successor(row))


def _requeue(
    row: OutboundDelivery,
    *,
    due_at: datetime,
    error: str,
    code: int | None = None,
    attempted: bool = True,
) -> None:
    OutboundDelivery.objects.filter(
        pk=row.pk, status=DeliveryStatus.SENDING, claimed_at=row.claimed_at
    ).update(
        status=DeliveryStatus.PENDING,
        due_at=due_at,
        response_code=code,
        last_error=error[:2000],
        updated_at=timezone.now(),
        **({} if attempted else {"attempts": _GIVE_BACK}),
    )


def _successor(row: OutboundDelivery) -> int | None:
    """The next pending row of ``row``'s chain, if it is due (webhook rows only)."""
    if row.endpoint_id is None:
        return None
    nxt = (
        OutboundDelivery.objects.filter(
            endpoint_id=row.endpoint_id,
            ordering_key=row.ordering_key,
            pk__gt=row.pk,
            status__in=UNFINISHED,
        )
        .order_by("pk")
        .values_list("pk", "status", "due_at")
        .first()
    )
    if nxt is None or nxt[1] != DeliveryStatus.PENDING or nxt[2] > timezone.now():
        return None
    return int(nxt[0])


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones."""
    base = float(app_settings.WEBHOOK_RETRY_BACKOFF_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF_SECONDS)


class InlineDispatcher(BaseDispatcher):
    """One attempt per row in this process, right after the commit, each bounded by
    ``WEBHOOK_INLINE_TIMEOUT_SECONDS`` (``WEBHOOK_DISPATCH = "inline"``); retries are the
    sweep's."""

    def dispatch(self, pks: list[int]) -> None:
        timeout = float(app_settings.WEBHOOK_INLINE_TIMEOUT_SECONDS)
        for first in pks:
            pk: int | None = first
            while pk is not None:
                try:
                    outcome = send_delivery(pk, timeout=timeout)
                except Exception:
                    logger.exception("Delivery %s could not be sent; the sweep retries it", pk)
                    break
                # The next row of the chain is in ``pks`` too, or was written earlier.
                pk = outcome.successor if outcome.successor not in pks else None


# --- the sweep, stale rows, "send again" -------------------------------------------------------


def release_stale(*, now: datetime | None = None) -> int:
    """Put back rows left "sending" by a worker that died (see the module doc)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=app_settings.WEBHOOK_SENDING_TIMEOUT_MINUTES)
    return OutboundDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=cutoff
    ).update(status=DeliveryStatus.PENDING, last_error="interrupted while sending", updated_at=now)


def sweep_deliveries(*, batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Send every claimable row, in bounded batches; returns how many attempts were made.

    Each batch takes the first row of each chain, so a case with several events needs as many
    batches: they follow each other within the run.
    """
    return outbox_engine.sweep_batches(
        batch_size=batch_size or app_settings.WEBHOOK_BATCH_SIZE,
        max_batches=max_batches or app_settings.WEBHOOK_SWEEP_MAX_BATCHES,
        release_stale=release_stale,
        claim_due=claim_due,
        deliver=deliver,
        requeue_crashed=_requeue_crashed,
        label="Delivery",
    )


def _requeue_crashed(pk: int, claimed_at: datetime) -> None:
    """A row whose delivery raised: retried after the first back-off."""
    row = OutboundDelivery(pk=pk, claimed_at=claimed_at)
    _requeue(row, due_at=timezone.now() + timedelta(seconds=backoff(1)), error="unexpected error")


def pending_deliveries() -> int:
    """Rows still to go (pending or sending), due or not."""
    return OutboundDelivery.objects.filter(status__in=UNFINISHED).count()


def send_again(pks: Iterable[int], *, actor: Any = None) -> int:
    """Staff's "send again": put the rows back in the queue, due now, with their attempts reset
    and the same event id (a receiver that has the event already can drop it). Rows being sent
    right now are left alone. Returns how many rows were queued again."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            OutboundDelivery.objects.select_for_update()
            .filter(pk__in=list(pks))
            .exclude(status=DeliveryStatus.SENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        OutboundDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING,
            due_at=now,
            attempts=0,
            claimed_at=None,
            delivered_at=None,
            last_error=f"sent again by {describe_actor(actor)}"[:2000],
            updated_at=now,
        )
        dispatch_on_commit(ids)
    logger.info("%s delivery(ies) queued again by %s", len(ids), describe_actor(actor))
    return len(ids)


def rotate_secrets(endpoint_pks: Iterable[int]) -> int:
    """Give each endpoint a new signing secret (the receiver must get it); returns how many."""
    count = 0
    with transaction.atomic():
        for endpoint in WebhookEndpoint.objects.select_for_update().filter(
            pk__in=list(endpoint_pks)
        ):
            endpoint.secret = new_webhook_secret()
            endpoint.save(update_fields=["secret", "updated_at"])
            count += 1
    return count


def redact_cases(case_ids: Iterable[int]) -> int:
    """Remove personal data from the payloads of these cases' rows (the customer was erased);
    returns how many rows changed."""
    changed = []
    for row in OutboundDelivery.objects.filter(case_id__in=list(case_ids)).only("pk", "payload"):
        redacted = events.redact(row.payload)
        if redacted != row.payload:
            row.payload = redacted
            changed.append(row)
    OutboundDelivery.objects.bulk_update(changed, ["payload"], batch_size=500)
    return len(changed)


def dispatch_successor(outcome: DeliveryOutcome) -> None:
    """Hand the row a delivery freed to the dispatcher (a worker, after sending one)."""
    if outcome.successor is not None:
        dispatch_now([outcome.successor])
