"""Customers who cancelled and went dark: a desk task to reach the ones worth it, personally.

``scan_went_dark`` (the ``graceful_cancel_went_dark`` command, the ``graceful_cancel.scan_went_dark``
task; schedule it daily) makes one ``ReachOutTask`` per case that:

* was cancelled at least ``WENT_DARK_AFTER_DAYS`` ago and is still cancelled;
* is worth it: its priority (``PRIORITY_RULE``: value, tenure, reason) is at least
  ``WENT_DARK_MIN_PRIORITY``, and its reason allows saving (never a closing business: the reason's
  ``offer_allowed`` is off). A site keeps customers outside its ideal profile out by scoring them
  0 in its own priority rule;
* agreed to be contacted (``contact_consent``) and did not opt out of every channel: a personal
  call to someone who said no would be exactly what the product must never do;
* heard nothing back from the customer since the cancellation: no survey answer, no click, no
  call that reached them, nothing the customer did on any channel (``answered``).

The task lists what was already tried (channels and messages, the offer shown and its outcome)
and names a channel not tried yet. Staff close it with ``complete_reach_out``: the outcome, what
they learnt and the root cause they found (``set_root_cause``). The scan is idempotent (one task
per case, a unique key) and works in bounded batches.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import signals
from ..choices import (
    CallTaskStatus,
    CaseStatus,
    Channel,
    EventKind,
    FollowUpStatus,
    ReachOutOutcome,
    ReachOutStatus,
)
from ..conf import app_settings
from ..exceptions import InvalidInput, InvalidTransition
from ..models import (
    CallTask,
    CancellationCase,
    CaseEvent,
    FollowUp,
    OfferPresentation,
    OptOut,
    ReachOutTask,
    Reason,
)
from .cases import set_root_cause
from .core import Actor, lock_case, record
from .inputs import is_valid_phone

logger = logging.getLogger("django_graceful_cancel")

#: Timeline events that are the customer answering, whoever recorded them.
ANSWER_EVENTS = (
    EventKind.SURVEY_ANSWERED,
    EventKind.OPTED_OUT,
    EventKind.REACTIVATED,
    EventKind.CALL_DONE,
)
#: The cancellation flow's own steps, and what the system did after them in the customer's
#: name (the provider sync carries the actor who cancelled): never an answer.
NOT_ANSWERS = (
    EventKind.STARTED,
    EventKind.REASON_RECORDED,
    EventKind.OFFER_PRESENTED,
    EventKind.OFFER_DECLINED,
    EventKind.CANCELLED,
    EventKind.PROVIDER_SYNCED,
    EventKind.PROVIDER_SYNC_FAILED,
    EventKind.MESSAGE_SENT,
    EventKind.MESSAGE_STATUS,
)
#: Message statuses that mean it left (an attempt on its channel).
TRIED_STATUSES = (
    FollowUpStatus.SENT,
    FollowUpStatus.DELIVERED,
    FollowUpStatus.OPENED,
    FollowUpStatus.BOUNCED,
)
#: Channels a person tries, the most personal first.
PERSONAL_ORDER = (Channel.PHONE, Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)


def answered() -> Exists:
    """A subquery: the case's customer answered something after the cancellation.

    An answer is any timeline event the customer made (a survey, an opt-out, a link they used,
    a return), an ESP's "clicked", or a call task staff closed (they talked)."""
    after = CaseEvent.objects.filter(case=OuterRef("pk"), created_at__gte=OuterRef("cancelled_at"))
    return Exists(
        after.filter(
            Q(kind__in=ANSWER_EVENTS)
            # The flow's own steps and what followed from them are not an answer.
            | (Q(actor_label__startswith="customer") & ~Q(kind__in=NOT_ANSWERS))
            | Q(kind=EventKind.MESSAGE_STATUS, data__event="clicked")
        )
    )


def went_dark(*, now: Any = None) -> QuerySet[CancellationCase]:
    """The cases that should get a task now, most worth it first (reads only)."""
    days = app_settings.WENT_DARK_AFTER_DAYS
    if days is None:
        return CancellationCase.objects.none()
    cutoff = (now or timezone.now()) - timedelta(days=int(days))
    closing = Reason.objects.filter(offer_allowed=False).values("pk")
    opted_out_everywhere = OptOut.objects.filter(customer_id=OuterRef("customer_id"), channel="")
    return (
        CancellationCase.objects.filter(
            status=CaseStatus.CANCELLED,
            cancelled_at__lte=cutoff,
            priority__gte=int(app_settings.WENT_DARK_MIN_PRIORITY),
            contact_consent=True,
            customer__isnull=False,
            survey_answered_at__isnull=True,
            reach_out_task__isnull=True,
        )
        # Saving is wrong for these reasons (business closed): never, whatever the priority.
        .exclude(reason__in=closing)
        .exclude(root_cause__in=closing)
        .exclude(Exists(opted_out_everywhere))
        .exclude(answered())
        .order_by("-priority", "cancelled_at", "pk")
    )


def what_was_tried(case: CancellationCase) -> dict[str, Any]:
    """The channels and messages already used on the case, the offer shown and the calls made:
    what the task lists so nobody repeats it."""
    messages = [
        {
            "stage": row.template or row.stage,
            "channel": row.channel,
            "status": row.status,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        }
        for row in FollowUp.objects.filter(case=case, status__in=TRIED_STATUSES).order_by(
            "sent_at", "pk"
        )
    ]
    offers = [
        {"offer": p.offer.slug, "title": str(p.offer.title), "outcome": p.outcome}
        for p in OfferPresentation.objects.filter(case=case).select_related("offer")
    ]
    calls = [
        {"stage": t.stage, "status": t.status, "outcome": t.outcome[:200]}
        for t in CallTask.objects.filter(case=case).exclude(status=CallTaskStatus.CANCELLED)
    ]
    channels = sorted({str(m["channel"]) for m in messages} | ({"phone"} if calls else set()))
    return {"channels": channels, "messages": messages, "offers": offers, "calls": calls}


def untried_channel(case: CancellationCase, tried: list[str]) -> str:
    """The most personal channel not tried yet on which the customer can be reached, or ""."""
    has_phone = case.contact_consent and is_valid_phone(case.contact_phone)
    email = getattr(case.customer, "email", "") if case.customer_id else ""
    for channel in PERSONAL_ORDER:
        if channel in tried:
            continue
        if channel == Channel.EMAIL and email:
            return channel
        if channel != Channel.EMAIL and has_phone:
            return channel
    return ""


def create_reach_out(case: CancellationCase | int, *, actor: Actor = "system") -> ReachOutTask:
    """The task for one case (returns the existing one when there is one already)."""
    with transaction.atomic():
        case = lock_case(case)
        existing = ReachOutTask.objects.filter(case=case).first()
        if existing is not None:
            return existing
        tried = what_was_tried(case)
        try:
            with transaction.atomic():
                task = ReachOutTask.objects.create(
                    case=case,
                    channel=untried_channel(case, tried["channels"]),
                    tried=tried,
                    owner=case.owner,
                )
        except IntegrityError:  # a concurrent scan made it first
            return ReachOutTask.objects.get(case=case)
        record(
            case,
            EventKind.REACH_OUT_CREATED,
            signals.reach_out_created,
            actor=actor,
            data={"task": task.pk, "channel": task.channel, "tried": tried["channels"]},
            task=task,
        )
    return task


def scan_went_dark(*, batch_size: int = 200, max_batches: int = 10) -> int:
    """Make the tasks for every case that went dark, in bounded batches; returns how many.

    Idempotent: a case gets one task, ever; a second run makes none."""
    made = 0
    for _batch in range(max_batches):
        pks = list(went_dark().values_list("pk", flat=True)[:batch_size])
        if not pks:
            break
        for pk in pks:
            create_reach_out(pk)
            made += 1
        if len(pks) < batch_size:
            break
    return made


def complete_reach_out(
    task: ReachOutTask | int,
    *,
    outcome: str,
    note: str = "",
    root_cause: Reason | str | None = None,
    root_cause_detail: str = "",
    actor: Actor,
) -> ReachOutTask:
    """Staff reached out (or tried): record the outcome, what they learnt and, when they found
    it, the root cause (``set_root_cause``, next to the stated reason).

    Raises ``InvalidInput`` on ``outcome`` for a value not in ``ReachOutOutcome`` and
    ``InvalidTransition("reach_out_already_done")`` for a task already closed."""
    if outcome not in ReachOutOutcome.values:
        raise InvalidInput.single("outcome", "invalid_outcome", _("Choose how it went."))
    pk = task.pk if isinstance(task, ReachOutTask) else task
    with transaction.atomic():
        case_pk = ReachOutTask.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        if case_pk is None:
            raise InvalidTransition(code="no_reach_out")
        case = lock_case(case_pk)
        task = ReachOutTask.objects.select_for_update().get(pk=pk)
        if task.status != ReachOutStatus.OPEN:
            raise InvalidTransition(code="reach_out_already_done")
        task.status = ReachOutStatus.DONE
        task.outcome = outcome
        task.note = (note or "").strip()[:5000]
        task.done_at = timezone.now()
        task.done_by = actor if getattr(actor, "pk", None) else None
        task.save(update_fields=["status", "outcome", "note", "done_at", "done_by"])
        record(
            case,
            EventKind.REACH_OUT_DONE,
            signals.reach_out_done,
            actor=actor,
            data={"task": task.pk, "outcome": outcome, "note": task.note[:500]},
            task=task,
        )
        if root_cause:
            set_root_cause(case, root_cause, detail=root_cause_detail, actor=actor)
    return task


def open_reach_outs() -> int:
    """How many went-dark tasks wait for staff."""
    return ReachOutTask.objects.filter(status=ReachOutStatus.OPEN).count()
