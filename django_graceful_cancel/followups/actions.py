"""What comes back after a follow-up went: ESP tracking events, opt-outs, survey answers, calls.

Each function is a state change of the service layer: called by the anymail receiver, the signed
link pages, the API and the desk, never written around.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import signals
from ..choices import CallTaskStatus, CaseStatus, EventKind, FollowUpStatus
from ..exceptions import InvalidTransition
from ..models import CallTask, CancellationCase, DeliveryEvent, FollowUp, OptOut
from ..services.core import Actor, lock_case, record
from .outbox import record_followup

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

#: Delivery progress; tracking never moves a row backwards (an "open" after a "delivered" is
#: progress, a late "delivered" after an "open" is not).
_PROGRESS: dict[str, int] = {
    FollowUpStatus.SENT: 1,
    FollowUpStatus.DELIVERED: 2,
    FollowUpStatus.OPENED: 3,
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
            record_followup(
                row,
                EventKind.MESSAGE_STATUS,
                signals.followup_status_changed,
                actor=f"esp:{esp_name}"[:64] if esp_name else "system",
                data={
                    "followup": row.pk,
                    "stage": row.stage,
                    "channel": row.channel,
                    "status": new_status,
                    "event": event_type,
                },
                status=row.status,
                event=event,
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
            record(
                case,
                EventKind.OPTED_OUT,
                actor=actor,
                data={"channel": channel or "all", "source": source},
            )
        # Sent by OptOut, and also when the customer has no case to put the event on.
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
        case = lock_case(case)
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
        record(
            case,
            EventKind.SURVEY_ANSWERED,
            signals.survey_answered,
            actor=actor,
            data={"score": score},
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
            followup = task.followup
            if followup is None:
                continue
            # Only a follow-up still "sent" moves: one cancelled or already delivered since the
            # task was made changes nothing, so it gets no event and no signal either.
            delivered = FollowUp.objects.filter(pk=followup.pk, status=FollowUpStatus.SENT).update(
                status=FollowUpStatus.DELIVERED, delivered_at=now, updated_at=now
            )
            if not delivered:
                continue
            followup.status = FollowUpStatus.DELIVERED
            followup.delivered_at = followup.updated_at = now
            record_followup(
                followup,
                EventKind.MESSAGE_STATUS,
                signals.followup_status_changed,
                case=task.case,
                actor=actor,
                data={
                    "followup": followup.pk,
                    "stage": task.stage,
                    "channel": "phone",
                    "status": FollowUpStatus.DELIVERED,
                },
                status=FollowUpStatus.DELIVERED,
                event=None,
            )
    return tasks
