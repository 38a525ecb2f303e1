"""The three privacy operations: export a customer's data, erase it, purge old cases.

Each one is recorded in the privacy log (``PrivacyRequest``) and sends its signal; export and
erasure also leave an event in the timeline of every case concerned. See docs/privacy.md.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.forms.models import model_to_dict
from django.utils import timezone

from .. import signals
from ..choices import CaseStatus, EventKind, SyncStatus
from ..conf import app_settings
from ..exceptions import InvalidTransition
from ..followups import outbox as followups
from ..models import (
    CallTask,
    CancellationCase,
    CancellationDeclaration,
    CaseEvent,
    FollowUp,
    FulfilmentTask,
    IdempotencyKey,
    OfferPresentation,
    Pause,
    PrivacyRequest,
    QuestionAnswer,
    ReachOutTask,
    StaffNote,
    Withdrawal,
)
from ..models.cases import describe_actor
from . import evidence
from .cases import retry_provider_sync
from .core import Actor, record

#: What a case's personal fields become on erasure (the anonymous figures stay).
ERASED_FIELDS: dict[str, Any] = {
    "customer": None,
    "reason_detail": "",
    "root_cause_detail": "",
    "contact_phone": "",
    "survey_comment": "",
    "time_zone": "",
}
#: Keys of timeline event data that may hold what someone typed.
_FREE_TEXT_KEYS = ("detail", "comment", "outcome", "body", "note", "error", "to", "address")


def _log_request(
    kind: str, *, subject: str, actor: Actor, cases: int, detail: dict
) -> PrivacyRequest:
    return PrivacyRequest.objects.create(
        kind=kind,
        subject=subject[:64],
        requested_by=actor if getattr(actor, "pk", None) else None,
        actor_label=describe_actor(actor),
        cases=cases,
        detail=detail,
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row made JSON-ready (dates as ISO strings, decimals as strings)."""
    return json.loads(json.dumps(row, cls=DjangoJSONEncoder))


def export_customer_data(customer: Any, *, actor: Actor) -> dict[str, Any]:
    """Everything the app holds about a customer, as a JSON-ready dict; the export is recorded."""
    cases = list(
        CancellationCase.objects.filter(customer=customer)
        .select_related("reason", "root_cause")
        .order_by("created_at")
    )
    case_ids = [c.pk for c in cases]
    events: dict[int, list] = {}
    for event in CaseEvent.objects.filter(case_id__in=case_ids).order_by("created_at", "pk"):
        events.setdefault(event.case_id, []).append(
            {
                "at": event.created_at,
                "kind": event.kind,
                "by": event.actor_label,
                "data": event.data,
            }
        )
    offers = {
        p.case_id: {
            "offer": p.offer.slug,
            "title": p.offer.title,
            "outcome": p.outcome,
            "presented_at": p.presented_at,
            "decided_at": p.decided_at,
            "applied": p.applied,
        }
        for p in OfferPresentation.objects.filter(case_id__in=case_ids).select_related("offer")
    }
    notes: dict[int, list] = {}
    for note in StaffNote.objects.filter(case_id__in=case_ids):
        notes.setdefault(note.case_id, []).append({"at": note.created_at, "note": note.body})
    offer_tasks = {
        task.case_id: {
            "status": task.status,
            "due_at": task.due_at,
            "done_at": task.done_at,
            "note": task.note,
        }
        for task in FulfilmentTask.objects.filter(case_id__in=case_ids)
    }
    followups = _followups_of(case_ids)
    # The answers to the reason's follow-up questions (services/questions.py).
    answers: dict[int, list] = {}
    for answer in QuestionAnswer.objects.filter(case_id__in=case_ids).order_by("pk"):
        answers.setdefault(answer.case_id, []).append(
            {
                "question": answer.question_key,
                "kind": answer.kind,
                "answer": answer.value,
                "answered_at": answer.answered_at,
                "updated_at": answer.updated_at,
            }
        )
    declarations = _declarations_of(customer.pk, case_ids).values(
        "reference",
        "status",
        "name",
        "email",
        "contract",
        "termination",
        "extraordinary_reason",
        "requested_end_date",
        "language",
        "received_at",
        "case_id",
    )
    exclude = {"id", "customer", "owner"}
    data = {
        "customer": {
            "id": customer.pk,
            "username": customer.get_username(),
            "email": getattr(customer, "email", ""),
            "name": customer.get_full_name() if hasattr(customer, "get_full_name") else "",
        },
        "exported_at": timezone.now(),
        "cases": [
            {
                **{k: v for k, v in model_to_dict(case).items() if k not in exclude},
                "reference": case.reference,
                "created_at": case.created_at,
                "reason": case.reason.slug if case.reason else None,
                "root_cause": case.root_cause.slug if case.root_cause else None,
                "offer": offers.get(case.pk),
                "timeline": events.get(case.pk, []),
                "staff_notes": notes.get(case.pk, []),
                "offer_task": offer_tasks.get(case.pk),
                "follow_ups": followups.get(case.pk, []),
                "answers": answers.get(case.pk, []),
            }
            for case in cases
        ],
        "cancellation_declarations": list(declarations),
        "withdrawals": list(
            _withdrawals_of(customer.pk, case_ids).values(
                "reference",
                "status",
                "name",
                "email",
                "contract",
                "language",
                "received_at",
                "withdrawn_at",
                "refund_amount",
                "refund_currency",
                "refunded_at",
                "case_id",
            )
        ),
    }
    data = _plain(data)
    with transaction.atomic():
        request = _log_request(
            PrivacyRequest.Kind.EXPORT,
            subject=str(customer.pk),
            actor=actor,
            cases=len(cases),
            detail={"cases": case_ids},
        )
        for case in cases:
            record(case, EventKind.EXPORTED, actor=actor, data={"request": request.pk})
        signals.customer_exported.send(
            sender=PrivacyRequest, customer=customer, actor=actor, request=request
        )
    return data


def _followups_of(case_ids: list[int]) -> dict[int, list]:
    """Follow-up rows per case."""
    found: dict[int, list] = {}
    for row in FollowUp.objects.filter(case_id__in=case_ids).values():
        found.setdefault(row["case_id"], []).append(row)
    return found


def _declarations_of(customer_id: int, case_ids: list[int]) -> QuerySet:
    """No-login cancellation declarations (the EU profile) of this customer or their cases."""
    return CancellationDeclaration.objects.filter(
        Q(customer_id=customer_id) | Q(case_id__in=case_ids)
    )


def _withdrawals_of(customer_id: int, case_ids: list[int]) -> QuerySet:
    """Withdrawals (the statutory withdrawal function) of this customer or their cases."""
    return Withdrawal.objects.filter(Q(customer_id=customer_id) | Q(case_id__in=case_ids))


def _scrub(data: dict[str, Any]) -> dict[str, Any]:
    return {k: ("" if k in _FREE_TEXT_KEYS else v) for k, v in (data or {}).items()}


def erase_customer(customer: Any, *, actor: Actor) -> PrivacyRequest:
    """Erase a customer's personal data from their cases, keeping the anonymous figures.

    Kept: status, dates, reason and root cause (catalogue rows), plan and price snapshot, offer
    outcome, survey score. Erased: the link to the customer, everything they or staff typed about
    them (reason in their words, root cause notes, staff notes, survey comment, text answers to
    follow-up questions, free text in the timeline), the phone number, the subscription reference (kept while a cancellation or
    reactivation is still pending at the provider, which needs it), the API's stored responses
    (``IdempotencyKey``). Pending follow-ups are cancelled.
    The host's user account is not touched: deleting it is the host's decision.
    """
    customer_id = customer.pk if hasattr(customer, "pk") else int(customer)
    # A cancellation the provider has not applied yet needs the subscription reference: try the
    # sync now (outside the erasure's transaction: it talks to the backend, and records its own
    # failure), and keep the reference of the cases still pending so the sweep can finish them.
    for pk in CancellationCase.objects.filter(
        customer_id=customer_id, provider_sync=SyncStatus.PENDING
    ).values_list("pk", flat=True):
        retry_provider_sync(pk, actor=actor)
    with transaction.atomic():
        cases = list(
            CancellationCase.objects.select_for_update()
            .filter(customer_id=customer_id)
            .order_by("pk")
        )
        case_ids = [c.pk for c in cases]
        for case in cases:
            with contextlib.suppress(InvalidTransition):
                followups.cancel_pending(case, actor=actor)
        now = timezone.now()
        for case in cases:
            # The reference is the provider's id of the subscription, not personal data: it goes
            # only once nothing is left for the provider to apply.
            ref = (
                {}
                if case.provider_sync == SyncStatus.PENDING
                else {"subscription_ref": f"erased:{case.pk}"}
            )
            CancellationCase.objects.filter(pk=case.pk).update(
                **ERASED_FIELDS, **ref, updated_at=now
            )
        OfferPresentation.objects.filter(case_id__in=case_ids).update(customer=None)
        StaffNote.objects.filter(case_id__in=case_ids).update(body="")
        # What staff wrote applying an accepted offer (services/fulfilment.py).
        FulfilmentTask.objects.filter(case_id__in=case_ids).update(note="")
        # Pauses and went-dark tasks (services/pauses.py, services/reach.py): what staff wrote
        # and what they listed as tried (call outcomes are free text) go; the states stay.
        Pause.objects.filter(case_id__in=case_ids).update(customer=None)
        ReachOutTask.objects.filter(case_id__in=case_ids).update(note="", tried={})
        # Follow-up answers: the words go; a choice's key and a 0-10 score stay, anonymous
        # figures like the survey score.
        QuestionAnswer.objects.filter(case_id__in=case_ids).exclude(text="").update(text="")
        # The timeline is append-only for everything except erasure, which the law puts first.
        events = list(CaseEvent.objects.filter(case_id__in=case_ids).only("pk", "data", "actor"))
        for event in events:
            event.data = _scrub(event.data)
            if event.actor_id == customer_id:
                event.actor = None
        CaseEvent.objects.bulk_update(events, ["data", "actor"], batch_size=500)
        _erase_followups(case_ids)
        _declarations_of(customer_id, case_ids).update(
            customer=None,
            name="",
            email="",
            contract="",
            extraordinary_reason="",
            staff_note="",
            client_hash="",
        )
        # Withdrawals (services/withdrawals.py): what the sender typed; the dates and the refund
        # stay, for the figures and the refund still owed.
        _withdrawals_of(customer_id, case_ids).update(
            customer=None, name="", email="", contract="", staff_note="", client_hash=""
        )
        # Replayable API responses hold what the customer typed (their reason, their phone).
        IdempotencyKey.objects.filter(customer_id=customer_id).delete()
        # The retained evidence records go too, purged cases' included: erasure on request
        # outranks their retention period (docs/privacy.md); the log says how many went.
        evidence_erased = evidence.erase(customer_id, case_ids)
        request = _log_request(
            PrivacyRequest.Kind.ERASE,
            subject=str(customer_id),
            actor=actor,
            cases=len(cases),
            detail={"cases": case_ids, "evidence_records_erased": evidence_erased},
        )
        for case in cases:
            record(case, EventKind.ERASED, actor=actor, data={"request": request.pk})
        signals.customer_erased.send(
            sender=PrivacyRequest,
            customer_id=customer_id,
            actor=actor,
            request=request,
            case_ids=case_ids,
        )
    return request


def _erase_followups(case_ids: list[int]) -> None:
    """Blank what the follow-up outbox stored about the customer: the link to them, the address
    a follow-up went to, the provider's error (it often quotes the address), and the phone,
    script and outcome of call tasks."""
    FollowUp.objects.filter(case_id__in=case_ids).update(customer=None, recipient="", last_error="")
    CallTask.objects.filter(case_id__in=case_ids).update(phone="", script="", outcome="")


def purgeable_cases(cutoff: datetime) -> QuerySet:
    """The cases ``purge_cases`` deletes for this cutoff (the purge command's dry run counts them)."""
    return (
        CancellationCase.objects.filter(created_at__lt=cutoff)
        .exclude(status=CaseStatus.OPEN)
        .exclude(provider_sync=SyncStatus.PENDING)
    )


def purge_cases(
    *, older_than_days: int | None = None, actor: Actor = "system", batch_size: int = 5000
) -> PrivacyRequest | None:
    """Delete closed cases started more than ``older_than_days`` (default ``PURGE_AFTER_DAYS``) ago.

    Open cases are never purged, nor cases whose cancellation or reactivation the provider has
    not applied yet (the sweep still needs them). Returns the recorded request, or None when
    purging is off.
    """
    days = older_than_days if older_than_days is not None else app_settings.PURGE_AFTER_DAYS
    if days is None:
        return None
    if days < 1:
        raise InvalidTransition(code="purge_days_invalid")
    cutoff = timezone.now() - timedelta(days=days)
    old = purgeable_cases(cutoff)
    deleted = evidence_kept = evidence_expired = 0
    while True:
        with transaction.atomic():
            pks = list(old.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                break
            # Evidence records outlive the case until EVIDENCE_RETENTION_DAYS after it closed:
            # snapshot them before the rows they are built from go (services/evidence.py).
            kept, expired = evidence.retain_for_purge(pks)
            evidence_kept += kept
            evidence_expired += expired
            CancellationCase.objects.filter(pk__in=pks).delete()
            deleted += len(pks)
    with transaction.atomic():
        evidence_expired += evidence.expire()
        request = _log_request(
            PrivacyRequest.Kind.PURGE,
            subject="",
            actor=actor,
            cases=deleted,
            detail={
                "older_than_days": days,
                "cutoff": cutoff.isoformat(),
                "evidence_records_kept": evidence_kept,
                "evidence_records_expired": evidence_expired,
            },
        )
        signals.cases_purged.send(sender=PrivacyRequest, actor=actor, request=request)
    return request
