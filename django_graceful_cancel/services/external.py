"""Changes made at the billing provider, outside the flow, recorded on the cases they touch.

A customer may cancel or renew in the provider's own pages (Stripe's customer portal), or staff
may do it in the provider's dashboard. The provider tells the site (a webhook, or dj-stripe's
signals) and these functions keep the case in step, with the same rules as every other service:
one transaction, the case row locked, a conditional status update, one timeline event and one
signal. The provider has already made the change, so nothing is sent back to it: the case's
``provider_sync`` ends ``synced``.

Each call is idempotent on the provider's event id (events are delivered at least once) and a
change that is only the echo of the app's own request (the flow cancelled at period end; Stripe
then reports that very change) records nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import signals
from ..choices import CaseStatus, EffectiveMode, EventKind, SyncStatus
from ..followups.outbox import stop_sequence
from ..models import CancellationCase, CaseEvent, Reason
from .cases import DETAIL_MAX_LENGTH, cancel_locked, record_reason
from .core import Actor, lock_case, record, transition
from .inputs import storable

logger = logging.getLogger("django_graceful_cancel")


def _latest_case(subscription_ref: str) -> CancellationCase | None:
    return (
        CancellationCase.objects.filter(subscription_ref=subscription_ref)
        .order_by("-created_at", "-pk")
        .first()
    )


def _seen(case: CancellationCase, event_id: str) -> bool:
    return bool(event_id) and CaseEvent.objects.filter(case=case, data__event_id=event_id).exists()


def _record_change(
    case: CancellationCase, change: str, *, source: str, event_id: str, actor: Actor, **data: Any
) -> None:
    record(
        case,
        EventKind.EXTERNAL_CHANGE,
        signals.external_change_recorded,
        actor=actor,
        data={"change": change, "source": source, "event_id": event_id, **data},
        change=change,
        source=source,
        event_id=event_id,
    )


def record_external_cancellation(
    subscription_ref: str,
    *,
    immediately: bool,
    effective_at: datetime | None = None,
    source: str = "stripe",
    event_id: str = "",
    actor: Actor = None,
    reason: str | None = None,
    detail: str = "",
    feedback: str = "",
) -> CancellationCase | None:
    """The provider says the subscription was cancelled (``immediately``: it has ended; else it
    ends at ``effective_at``, the end of the paid period). Returns the case it recorded on, or
    None when no case has this subscription (a cancellation that never went through the flow).

    * An open case, or a reactivated one, becomes cancelled (a presented offer is declined).
    * A cancelled case waiting for its provider sync is marked synced: the provider has it.
    * A cancelled case due to end later that the provider ended now records that it ended early.
    * A saved or abandoned case keeps its status (its history stays true) and records the change.

    ``reason`` (a catalogue slug; one the catalogue lacks is "other") and ``detail`` (the
    customer's words) are what the customer told the provider (Stripe's portal feedback and
    comment, mapped by the webhook). They are recorded on an open case that has no reason yet,
    as a reason step of its own (event and signal), before it is cancelled; a reason the
    customer already gave in the flow is kept. ``feedback`` (the provider's own code) goes into
    the event's data.
    """
    actor = actor if actor is not None else source
    case = _latest_case(subscription_ref)
    if case is None:
        logger.info("%s cancelled %s outside the flow; no case has it.", source, subscription_ref)
        return None
    now = timezone.now()
    effective = now if immediately or effective_at is None else effective_at
    mode = EffectiveMode.IMMEDIATELY if immediately else EffectiveMode.PERIOD_END
    with transaction.atomic():
        case = lock_case(case)
        if _seen(case, event_id):
            return case
        provided = {"feedback": feedback} if feedback else {}
        if case.status == CaseStatus.OPEN and case.reason_id is None and not case.reason_detail:
            case = _record_provider_reason(case, reason, detail, actor=actor)
        if case.status in (CaseStatus.OPEN, CaseStatus.REACTIVATED):
            # The same path as a confirmation in the flow: the offer is declined, the customer
            # gets the confirmation and follow-ups; only the provider needs no telling.
            cancel_locked(
                case,
                [case.status],
                mode=mode,
                effective_at=effective,
                provider_sync=SyncStatus.SYNCED,
                actor=actor,
                external=True,
                source=source,
                event_id=event_id,
                previous_status=case.status,
                **provided,
            )
        elif case.status == CaseStatus.CANCELLED:
            fields: dict[str, Any] = {}
            change = ""
            if case.provider_sync == SyncStatus.PENDING:
                fields.update(provider_sync=SyncStatus.SYNCED, provider_sync_error="")
                change = "sync_completed"
            if immediately and case.effective_at is not None and case.effective_at > now:
                fields.update(effective_mode=EffectiveMode.IMMEDIATELY, effective_at=now)
                change = change or "ended_early"
            if not change:
                return case  # the echo of the flow's own cancellation
            CancellationCase.objects.filter(pk=case.pk).update(updated_at=now, **fields)
            for name, value in fields.items():
                setattr(case, name, value)
            _record_change(case, change, source=source, event_id=event_id, actor=actor)
        else:
            _record_change(
                case,
                "cancelled",
                source=source,
                event_id=event_id,
                actor=actor,
                immediately=immediately,
                effective_at=effective.isoformat(),
                **provided,
            )
    return case


def _record_provider_reason(
    case: CancellationCase, slug: str | None, detail: str, *, actor: Actor
) -> CancellationCase:
    """Record on an open case, locked by the caller, the reason and words the customer gave
    the provider; nothing when they gave neither."""
    words = storable((detail or "").strip())[:DETAIL_MAX_LENGTH]
    found = None
    if slug:
        active = Reason.objects.filter(is_active=True)
        found = active.filter(slug=slug).first() or active.filter(slug="other").first()
    if found is None and not words:
        return case
    # The contact preferences the case already holds stay as they are.
    return record_reason(
        case,
        found,
        detail=words,
        preferred_channel=case.preferred_channel or None,
        contact_consent=case.contact_consent,
        contact_phone=case.contact_phone,
        actor=actor,
    )


def record_external_reactivation(
    subscription_ref: str,
    *,
    source: str = "stripe",
    event_id: str = "",
    actor: Actor = None,
) -> CancellationCase | None:
    """The provider says a subscription set to end will renew after all (the customer undid the
    cancellation in the provider's pages). A cancelled case still inside its paid period becomes
    reactivated; a reactivation the app itself asked for is marked synced; otherwise nothing.
    """
    actor = actor if actor is not None else source
    case = _latest_case(subscription_ref)
    if case is None:
        return None
    with transaction.atomic():
        case = lock_case(case)
        if _seen(case, event_id):
            return case
        if case.status == CaseStatus.CANCELLED and case.can_reactivate:
            transition(
                case,
                [CaseStatus.CANCELLED],
                CaseStatus.REACTIVATED,
                code="case_not_cancelled",
                reactivated_at=timezone.now(),
                provider_sync=SyncStatus.SYNCED,
                provider_sync_error="",
            )
            stop_sequence(case, why="reactivated")
            record(
                case,
                EventKind.REACTIVATED,
                signals.case_reactivated,
                actor=actor,
                data={"external": True, "source": source, "event_id": event_id},
                external=True,
                source=source,
            )
        elif case.status == CaseStatus.REACTIVATED and case.provider_sync == SyncStatus.PENDING:
            CancellationCase.objects.filter(pk=case.pk).update(
                provider_sync=SyncStatus.SYNCED, provider_sync_error="", updated_at=timezone.now()
            )
            case.provider_sync = SyncStatus.SYNCED
            _record_change(case, "sync_completed", source=source, event_id=event_id, actor=actor)
    return case
