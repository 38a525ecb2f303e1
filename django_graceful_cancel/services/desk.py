"""State changes made from the retention desk: notes, calls, follow-ups, save checks, experiments
and the three privacy operations (export, erase, purge).

Like ``services/cases.py``: one transaction each, the case row locked, one timeline event and one
signal per change, and the staff member recorded as the actor.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone

from .. import signals
from ..backends import get_backend
from ..choices import CaseStatus, EventKind
from ..conf import app_settings
from ..exceptions import BackendError, InvalidTransition
from ..models import (
    CancellationCase,
    CaseEvent,
    ExperimentAssignment,
    OfferExperiment,
    OfferPresentation,
    PrivacyRequest,
    RetentionOffer,
    SaveCheck,
    StaffNote,
)
from ..models.cases import _actor_label

logger = logging.getLogger("django_graceful_cancel")

Actor = Any

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


def _lock(case: CancellationCase | int) -> CancellationCase:
    pk = case.pk if isinstance(case, CancellationCase) else case
    return CancellationCase.objects.select_for_update().get(pk=pk)


# --- notes and calls ---------------------------------------------------------------------------


def add_note(case: CancellationCase | int, body: str, *, actor: Actor) -> StaffNote:
    """Add a staff note to the case (any status: notes are how staff remember what was tried)."""
    body = (body or "").strip()
    if not body:
        raise InvalidTransition(code="empty_note")
    with transaction.atomic():
        case = _lock(case)
        note = StaffNote.objects.create(
            case=case, author=actor if getattr(actor, "pk", None) else None, body=body[:5000]
        )
        case.log(EventKind.NOTE_ADDED, actor=actor, data={"note": note.pk})
        signals.note_added.send(sender=CancellationCase, case=case, actor=actor, note=note)
    return note


def mark_call_done(
    case: CancellationCase | int, *, outcome: str = "", actor: Actor
) -> CancellationCase:
    """Record that staff called the customer who asked for a call.

    When the follow-up outbox has a pending phone task for the case, that task is completed
    through its own service too.
    """
    with transaction.atomic():
        case = _lock(case)
        outcome = (outcome or "").strip()[:500]
        if outcome:
            StaffNote.objects.create(
                case=case, author=actor if getattr(actor, "pk", None) else None, body=outcome
            )
        case.log(EventKind.CALL_DONE, actor=actor, data={"outcome": outcome})
        signals.call_done.send(sender=CancellationCase, case=case, actor=actor, outcome=outcome)
        _complete_call_tasks(case, actor, outcome)
    return case


def _followup_services() -> Any | None:
    try:
        from . import followups
    except ImportError:
        return None
    return followups


def _complete_call_tasks(case: CancellationCase, actor: Actor, outcome: str) -> None:
    followups = _followup_services()
    complete = getattr(followups, "complete_call", None) if followups else None
    if complete is not None:
        # No call task pending is fine: the call was staff's own initiative.
        with contextlib.suppress(InvalidTransition):
            complete(case, actor=actor, outcome=outcome)


def followups_available() -> bool:
    followups = _followup_services()
    return bool(followups and hasattr(followups, "schedule_sequence"))


def schedule_followups(case: CancellationCase | int, *, actor: Actor) -> int:
    """Schedule a cancelled case's follow-up sequence (stages already scheduled are kept)."""
    followups = _followup_services()
    if followups is None or not hasattr(followups, "schedule_sequence"):
        raise InvalidTransition(code="followups_unavailable")
    with transaction.atomic():
        case = _lock(case)
        if case.status != CaseStatus.CANCELLED:
            raise InvalidTransition(code="case_not_cancelled")
        rows = followups.schedule_sequence(case, actor=actor)
        case.log(
            EventKind.FOLLOWUPS_SCHEDULED,
            actor=actor,
            data={"stages": [row.stage for row in rows]},
        )
    return len(rows)


def cancel_followups(case: CancellationCase | int, *, actor: Actor) -> int:
    """Cancel the case's follow-ups not sent yet, and its open call tasks."""
    followups = _followup_services()
    cancel = getattr(followups, "cancel_pending", None) if followups is not None else None
    if cancel is None:
        raise InvalidTransition(code="followups_unavailable")
    with transaction.atomic():
        case = _lock(case)
        count = cancel(case, actor=actor)
        case.log(EventKind.FOLLOWUPS_CANCELLED, actor=actor, data={"cancelled": count})
    return count


# --- offer experiments -------------------------------------------------------------------------


def _bucket(experiment_pk: int, reference: str) -> float:
    """A stable number in [0, 1) for this case in this experiment (same case, same arm)."""
    digest = hashlib.sha256(f"{experiment_pk}:{reference}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def active_experiment(case: CancellationCase) -> OfferExperiment | None:
    """The active experiment the case takes part in: one for its reason first, then a general one."""
    if case.reason_id is None:
        return None
    candidates = (
        OfferExperiment.objects.filter(is_active=True)
        .filter(Q(reason_id=case.reason_id) | Q(reason__isnull=True))
        .order_by("reason_id", "-created_at")  # NULLs sort last on SQLite and PostgreSQL asc
    )
    found = list(candidates[:5])
    specific = [e for e in found if e.reason_id == case.reason_id]
    return (specific or found or [None])[0]


def assign_experiment(case: CancellationCase) -> ExperimentAssignment | None:
    """Put the case in an arm of the active experiment (once; later calls return the same arm).

    Called by the offer policy inside ``present_offer``'s transaction. Returns None when no
    experiment applies, and the policy then behaves exactly as without experiments.
    """
    existing = (
        ExperimentAssignment.objects.filter(case_id=case.pk)
        .select_related("variant__offer")
        .first()
    )
    if existing is not None:
        return existing
    experiment = active_experiment(case)
    if experiment is None:
        return None
    variants = list(experiment.variants.select_related("offer").filter(offer__is_active=True))
    if not variants:
        return None  # nothing to compare: an empty holdout-only arm would skew the figures
    point = _bucket(experiment.pk, case.reference)
    holdout_share = experiment.holdout_percent / 100
    variant = None
    if variants and point >= holdout_share:
        # Rescale the rest of [holdout, 1) onto the cumulative weights.
        total = sum(v.weight for v in variants)
        target = (point - holdout_share) / (1 - holdout_share) * total
        running = 0
        for candidate in variants:
            running += candidate.weight
            if target < running:
                variant = candidate
                break
        variant = variant or variants[-1]
    return ExperimentAssignment.objects.create(
        case=case, experiment=experiment, variant=variant, is_holdout=variant is None
    )


def experiment_offer(case: CancellationCase) -> tuple[bool, RetentionOffer | None]:
    """``(True, offer or None)`` when an experiment decides for this case, else ``(False, None)``."""
    assignment = assign_experiment(case)
    if assignment is None:
        return False, None
    if assignment.is_holdout or assignment.variant is None:
        return True, None
    return True, assignment.variant.offer


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
        locked = _lock(pk)
        check, created = SaveCheck.objects.get_or_create(
            case=locked, days=days, defaults={"still_active": active}
        )
        if created:
            locked.log(
                EventKind.SAVE_CHECKED, actor=actor, data={"days": days, "still_active": active}
            )
            signals.save_checked.send(
                sender=CancellationCase, case=locked, actor=actor, check=check
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


# --- privacy -----------------------------------------------------------------------------------


def _record(kind: str, *, subject: str, actor: Actor, cases: int, detail: dict) -> PrivacyRequest:
    return PrivacyRequest.objects.create(
        kind=kind,
        subject=subject[:64],
        requested_by=actor if getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor),
        cases=cases,
        detail=detail,
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row made JSON-ready (dates as ISO strings, decimals as strings)."""
    import json

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
    followups = _followups_of(case_ids)
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
                "reason": case.reason.slug if case.reason_id else None,
                "root_cause": case.root_cause.slug if case.root_cause_id else None,
                "offer": offers.get(case.pk),
                "timeline": events.get(case.pk, []),
                "staff_notes": notes.get(case.pk, []),
                "follow_ups": followups.get(case.pk, []),
            }
            for case in cases
        ],
        "cancellation_declarations": list(declarations),
    }
    data = _plain(data)
    with transaction.atomic():
        request = _record(
            PrivacyRequest.Kind.EXPORT,
            subject=str(customer.pk),
            actor=actor,
            cases=len(cases),
            detail={"cases": case_ids},
        )
        for case in cases:
            case.log(EventKind.EXPORTED, actor=actor, data={"request": request.pk})
        signals.customer_exported.send(
            sender=PrivacyRequest, customer=customer, actor=actor, request=request
        )
    return data


def _followups_of(case_ids: list[int]) -> dict[int, list]:
    """Follow-up rows per case when the follow-up outbox is installed (issue 5)."""
    from django.apps import apps

    try:
        model = apps.get_model("graceful_cancel", "FollowUp")
    except LookupError:
        return {}
    found: dict[int, list] = {}
    for row in model.objects.filter(case_id__in=case_ids).values():
        found.setdefault(row["case_id"], []).append(row)
    return found


def _declarations_of(customer_id: int, case_ids: list[int]) -> Any:
    """No-login cancellation declarations (the EU profile) of this customer or their cases."""
    from django.apps import apps

    try:
        model = apps.get_model("graceful_cancel", "CancellationDeclaration")
    except LookupError:
        return CaseEvent.objects.none()
    return model.objects.filter(Q(customer_id=customer_id) | Q(case_id__in=case_ids))


def _scrub(data: dict[str, Any]) -> dict[str, Any]:
    return {k: ("" if k in _FREE_TEXT_KEYS else v) for k, v in (data or {}).items()}


def erase_customer(customer: Any, *, actor: Actor) -> PrivacyRequest:
    """Erase a customer's personal data from their cases, keeping the anonymous figures.

    Kept: status, dates, reason and root cause (catalogue rows), plan and price snapshot, offer
    outcome, survey score. Erased: the link to the customer, everything they or staff typed about
    them (reason in their words, root cause notes, staff notes, survey comment, free text in the
    timeline), the phone number, the subscription reference. Pending follow-ups are cancelled.
    The host's user account is not touched: deleting it is the host's decision.
    """
    customer_id = customer.pk if hasattr(customer, "pk") else int(customer)
    with transaction.atomic():
        cases = list(
            CancellationCase.objects.select_for_update()
            .filter(customer_id=customer_id)
            .order_by("pk")
        )
        case_ids = [c.pk for c in cases]
        followups = _followup_services()
        cancel = getattr(followups, "cancel_pending", None) if followups else None
        for case in cases:
            if cancel is not None:
                with contextlib.suppress(InvalidTransition):
                    cancel(case, actor=actor)
        now = timezone.now()
        for case in cases:
            CancellationCase.objects.filter(pk=case.pk).update(
                **ERASED_FIELDS, subscription_ref=f"erased:{case.pk}", updated_at=now
            )
        OfferPresentation.objects.filter(case_id__in=case_ids).update(customer=None)
        StaffNote.objects.filter(case_id__in=case_ids).update(body="")
        # The timeline is append-only for everything except erasure, which the law puts first.
        events = list(CaseEvent.objects.filter(case_id__in=case_ids).only("pk", "data", "actor"))
        for event in events:
            event.data = _scrub(event.data)
            if event.actor_id == customer_id:
                event.actor = None
        CaseEvent.objects.bulk_update(events, ["data", "actor"], batch_size=500)
        _erase_followups(case_ids)
        declarations = _declarations_of(customer_id, case_ids)
        if declarations.model is not CaseEvent:
            declarations.update(
                customer=None,
                name="",
                email="",
                contract="",
                extraordinary_reason="",
                staff_note="",
                client_hash="",
            )
        request = _record(
            PrivacyRequest.Kind.ERASE,
            subject=str(customer_id),
            actor=actor,
            cases=len(cases),
            detail={"cases": case_ids},
        )
        for case in cases:
            case.log(EventKind.ERASED, actor=actor, data={"request": request.pk})
        signals.customer_erased.send(
            sender=PrivacyRequest,
            customer_id=customer_id,
            actor=actor,
            request=request,
            case_ids=case_ids,
        )
    return request


def _erase_followups(case_ids: list[int]) -> None:
    """Blank the addresses and rendered text the follow-up outbox stored, when it exists."""
    from django.apps import apps

    try:
        model = apps.get_model("graceful_cancel", "FollowUp")
    except LookupError:
        return
    personal = {}
    for field in model._meta.concrete_fields:
        if field.name in ("to", "address", "recipient", "subject", "body", "text", "html"):
            if getattr(field, "null", False):
                personal[field.name] = None
            elif field.get_internal_type() in ("CharField", "TextField", "EmailField"):
                personal[field.name] = ""
    if personal:
        model.objects.filter(case_id__in=case_ids).update(**personal)
    try:
        calls = apps.get_model("graceful_cancel", "CallTask")
    except LookupError:
        return
    calls.objects.filter(case_id__in=case_ids).update(phone="", script="", outcome="")


def purge_cases(
    *, older_than_days: int | None = None, actor: Actor = "system", batch_size: int = 5000
) -> PrivacyRequest | None:
    """Delete closed cases started more than ``older_than_days`` (default ``PURGE_AFTER_DAYS``) ago.

    Open cases are never purged. Returns the recorded request, or None when purging is off.
    """
    days = older_than_days if older_than_days is not None else app_settings.PURGE_AFTER_DAYS
    if days is None:
        return None
    if days < 1:
        raise InvalidTransition(code="purge_days_invalid")
    cutoff = timezone.now() - timedelta(days=days)
    old = CancellationCase.objects.filter(created_at__lt=cutoff).exclude(status=CaseStatus.OPEN)
    deleted = 0
    while True:
        with transaction.atomic():
            pks = list(old.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                break
            CancellationCase.objects.filter(pk__in=pks).delete()
            deleted += len(pks)
    with transaction.atomic():
        request = _record(
            PrivacyRequest.Kind.PURGE,
            subject="",
            actor=actor,
            cases=deleted,
            detail={"older_than_days": days, "cutoff": cutoff.isoformat()},
        )
        signals.cases_purged.send(sender=PrivacyRequest, actor=actor, request=request)
    return request
