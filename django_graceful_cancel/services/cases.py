"""Every state change of a cancellation case.

Views, the API, the admin, tasks and commands call these functions and never change a case
themselves (the customer's pages and the API reach them through ``services.flow``). Each function
runs in one transaction and is made of the moves in ``services.core``: ``lock_case`` takes the row,
``require``/``transition`` check the current state (raising ``InvalidTransition`` with a stable
``code`` otherwise) and ``record`` writes the timeline event and sends the matching signal from
``signals.py``.

The status change itself is a conditional UPDATE (``WHERE status IN (...)``) as well as a row lock:
the lock serialises concurrent requests on PostgreSQL, and the conditional update keeps databases
without row locks (SQLite) from ever applying a transition twice.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation

from .. import dates, signals
from ..backends import get_backend
from ..backends.base import SubscriptionInfo
from ..choices import (
    CaseStatus,
    Channel,
    EffectiveMode,
    EventKind,
    OfferOutcome,
    SyncStatus,
)
from ..compliance import canonical_profile, rules_for
from ..conf import app_settings
from ..exceptions import BackendError, InvalidTransition, NoActiveSubscription, UnknownReason
from ..jurisdiction import Jurisdiction, profile_for
from ..models import CancellationCase, OfferPresentation, Reason, catalogue_cache
from ..policies import decide_offer, get_offer_policy
from . import experiments, fulfilment, pauses
from .core import Actor, cached_presentation, lock_case, record, require, transition
from .inputs import phone_or_empty, storable

logger = logging.getLogger("django_graceful_cancel")

#: The longest reason in the customer's words, and phone number, that a case keeps.
DETAIL_MAX_LENGTH = 5000
PHONE_MAX_LENGTH = 32


# --- helpers -----------------------------------------------------------------------------------


def _snapshot(info: SubscriptionInfo) -> dict[str, Any]:
    now = timezone.now()
    tenure = (now - info.started_at).days if info.started_at else None
    return {
        "plan": info.plan[:200],
        "plan_code": info.plan_code[:100],
        "price": info.price,
        "currency": (info.currency or "")[:3].upper(),
        "billing_interval": (info.interval or "")[:16],
        "subscription_started_at": info.started_at,
        "period_end": info.current_period_end,
        "tenure_days": max(tenure, 0) if tenure is not None else None,
    }


def _refresh_priority(case: CancellationCase) -> None:
    case.priority = int(app_settings.PRIORITY_RULE(case))


def resolve_reason(reason: Reason | str | None) -> Reason | None:
    """The active reason with this slug (a ``Reason`` is returned as is; empty means none).

    Raises ``UnknownReason`` for a slug that is not an active reason of the catalogue.
    """
    if reason is None or reason == "":
        return None
    if isinstance(reason, Reason):
        return reason
    # The catalogue is read from memory (models/catalogue_cache.py): no query per step.
    found = catalogue_cache.active_reason(reason)
    if found is None:
        raise UnknownReason()
    return found


# --- transitions -------------------------------------------------------------------------------


def start_case(
    customer: Any,
    *,
    language: str | None = None,
    time_zone: str = "",
    compliance_profile: str | None = None,
    jurisdiction: Jurisdiction | Callable[[SubscriptionInfo], Jurisdiction | None] | None = None,
    actor: Actor = None,
    reference: str | None = None,
    subscription: SubscriptionInfo | None = None,
) -> tuple[CancellationCase, bool]:
    """Open a case for the customer's active subscription, or return the open one.

    Returns ``(case, created)``. Raises ``NoActiveSubscription`` when there is nothing to cancel.
    ``reference`` names a new case (a declaration's, so its sender holds one reference only).
    ``jurisdiction`` (the pages and the API resolve it: ``jurisdiction.resolve_jurisdiction``)
    is recorded on the case and chooses its profile (``jurisdiction.profile_for``) unless
    ``compliance_profile`` names one; with neither, the case gets ``COMPLIANCE_PROFILE``. A
    callable is given the subscription read here (the API passes the resolver so, saving the
    billing provider a second call) and called only when a new case is opened.
    ``subscription``: the customer's active subscription as the caller read it from the backend
    in this request (the start page shows it); it is not read again.
    """
    existing = (
        CancellationCase.objects.filter(customer=customer, status=CaseStatus.OPEN)
        .select_related("reason")
        .first()
    )
    if existing is not None:
        return existing, False
    info = subscription or get_backend().get_active_subscription(customer)
    if info is None or not info.is_active:
        raise NoActiveSubscription()
    if (
        info.cancel_at_period_end
        or CancellationCase.objects.filter(
            subscription_ref=info.reference,
            # A withdrawal waiting for its sync ends the subscription too (services/withdrawals.py).
            status__in=[CaseStatus.CANCELLED, CaseStatus.WITHDRAWN],
            provider_sync=SyncStatus.PENDING,
        ).exists()
    ):
        # Already set to end (a double submit, or cancelled elsewhere), or confirmed here while
        # the provider was down (it still looks active there until the sync retry): a second
        # case would record a second cancellation of the same subscription.
        raise InvalidTransition(code="already_cancelled")
    if callable(jurisdiction):
        jurisdiction = jurisdiction(info)
    # An open case of the same subscription (opened by another login of a shared one, or a
    # concurrent request) needs no query here: the partial unique index refuses the insert
    # below, and the IntegrityError path returns that case (issue 19).
    case = CancellationCase(
        customer=customer,
        subscription_ref=info.reference,
        language=(language or translation.get_language() or "")[:16],
        # Dates are shown in this zone: one the system does not know is left out.
        time_zone=dates.known_zone(time_zone),
        compliance_profile=canonical_profile(compliance_profile) or profile_for(jurisdiction),
        jurisdiction=jurisdiction.code[:10] if jurisdiction else "",
        jurisdiction_source=str(jurisdiction.source)[:16] if jurisdiction else "",
        effective_mode=app_settings.DEFAULT_EFFECTIVE,
        **_snapshot(info),
    )
    if reference:
        case.reference = reference
    _refresh_priority(case)
    try:
        with transaction.atomic():
            case.save()
            record(
                case,
                EventKind.STARTED,
                signals.case_started,
                actor=actor or customer,
                data={
                    "plan": case.plan,
                    "profile": case.compliance_profile,
                    "jurisdiction": case.jurisdiction,
                    "jurisdiction_source": case.jurisdiction_source,
                },
            )
    except IntegrityError:
        # A concurrent request opened the case first (the partial unique index said so).
        return CancellationCase.objects.get(
            subscription_ref=info.reference, status=CaseStatus.OPEN
        ), False
    return case, True


def record_reason(
    case: CancellationCase,
    reason: Reason | str | None,
    *,
    detail: str = "",
    preferred_channel: str | None = None,
    contact_consent: bool = False,
    contact_phone: str = "",
    actor: Actor = None,
) -> CancellationCase:
    """Record (or change) the stated reason and contact preferences of an open case.

    Lenient by design (staff and the host's code call it too): text is trimmed to what a case
    keeps, and a phone number is kept only with consent. The customer's own answer goes through
    ``services.flow.check_reason`` first, which applies the input rules of the reason step.
    """
    reason_obj = resolve_reason(reason)
    if preferred_channel and preferred_channel not in Channel.values:
        raise InvalidTransition(code="unknown_channel")
    if isinstance(case, CancellationCase) and not case._state.adding:
        # The caller's instance, read in this request (the page's or the API's own lookup).
        case = copy.copy(case)
    else:
        case = CancellationCase.objects.select_related("reason").get(pk=getattr(case, "pk", case))
    with transaction.atomic():
        # No row lock here (issue 19): the conditional UPDATE below is the guarantee this step
        # needs (a decided case never changes its answer) and it writes only the answer's
        # fields, so nothing a concurrent change wrote is overwritten. Two answers racing on an
        # open case: the last one stands, as it would with a lock.
        case.reason = reason_obj
        case.reason_detail = storable((detail or "").strip())[:DETAIL_MAX_LENGTH]
        if preferred_channel:
            case.preferred_channel = preferred_channel
        if contact_consent and not case.contact_consent:
            case.contact_consent_at = timezone.now()
        case.contact_consent = bool(contact_consent)
        # A phone number is only kept for a customer who agreed to be contacted, and only a
        # valid one, in E.164 (services/inputs.py): anything else would be "sent" nowhere.
        case.contact_phone = phone_or_empty(contact_phone) if contact_consent else ""
        _refresh_priority(case)
        require(case, [CaseStatus.OPEN], "case_not_open")
        transition(
            case,
            [CaseStatus.OPEN],
            CaseStatus.OPEN,
            code="case_not_open",
            reason=reason_obj,
            reason_detail=case.reason_detail,
            preferred_channel=case.preferred_channel,
            contact_consent=case.contact_consent,
            contact_consent_at=case.contact_consent_at,
            contact_phone=case.contact_phone,
            priority=case.priority,
        )
        record(
            case,
            EventKind.REASON_RECORDED,
            signals.reason_recorded,
            actor=actor,
            data={
                "reason": reason_obj.slug if reason_obj else None,
                "channel": case.preferred_channel,
                "consent": case.contact_consent,
            },
            reason=reason_obj,
        )
    return case


def present_offer(
    case: CancellationCase, *, actor: Actor = None, after_confirmation: bool = False
) -> OfferPresentation | None:
    """Ask the offer policy for an offer and record it as shown; at most one per case, ever.

    Calling it again returns the case's existing presentation (whatever its outcome) rather than
    choosing another: a case is never shown a second offer.

    The case's profile decides when: an open case only where offers may come before the
    confirmation (``ComplianceRules.offers_before_confirm``); a cancelled one only with
    ``after_confirmation=True``, where the profile lets the customer ask for one once cancelled
    (``offer_after_confirm``, us-mn: ``services.offer_question``) and the cancellation can still
    be undone, since accepting reactivates the subscription.

    The case's arm of an active offer experiment is drawn here and handed to the policy, which
    only decides; the assignment is stored here too, when the policy looked at the arm (see
    ``services.experiments``), so a case the policy turned away for other reasons (no offers for
    its reason, an offer accepted recently) does not count in the experiment's figures.
    """
    with transaction.atomic():
        case = lock_case(case)
        # Read with the lock (services.core.lock_case): no query of its own.
        existing = cached_presentation(case)
        if existing is not None:
            return existing
        rules = rules_for(case.compliance_profile)
        if case.status == CaseStatus.OPEN:
            if after_confirmation or not rules.offers_before_confirm:
                # The profile's law puts nothing between the customer and the confirm button;
                # a replaceable policy cannot override it.
                return None
        elif not (
            after_confirmation
            and case.status == CaseStatus.CANCELLED
            and rules.offer_after_confirm
            and case.can_reactivate
        ):
            return None
        arm = experiments.draw_arm(case)
        offer = decide_offer(get_offer_policy(), case, arm=arm)
        experiments.store_arm(arm)
        if offer is not None and fulfilment.route_for(offer) is None:
            # An offer is a promise: a replaceable policy cannot show one that neither the
            # backend nor the site's OFFER_FULFILMENT routes would apply (check W010).
            logger.warning(
                "The offer policy chose %s for case %s, but nobody applies %r offers: not shown.",
                offer.slug,
                case.reference,
                offer.kind,
            )
            offer = None
        if offer is None:
            return None
        presentation = OfferPresentation.objects.create(
            case=case, offer=offer, customer_id=case.customer_id
        )
        record(
            case,
            EventKind.OFFER_PRESENTED,
            signals.offer_presented,
            actor=actor,
            data={
                "offer": offer.slug,
                "kind": offer.kind,
                **({"after_confirmation": True} if after_confirmation else {}),
            },
            presentation=presentation,
        )
    return presentation


def _pending_presentation(case: CancellationCase) -> OfferPresentation:
    # ``case`` comes from ``lock_case``, which read its presentation under the case's lock; every
    # change of a presentation holds that lock, so it needs no lock of its own (issue 19).
    presentation = cached_presentation(case)
    if presentation is None:
        raise InvalidTransition(code="no_offer")
    if presentation.outcome != OfferOutcome.PRESENTED:
        raise InvalidTransition(code="offer_already_decided")
    return presentation


def accept_offer(case: CancellationCase, *, actor: Actor = None) -> CancellationCase:
    """Accept the offer shown: it is applied by its route and the case is saved.

    The route (``services.fulfilment``) is the backend when it applies the offer itself, else the
    site's hook or a desk task for staff, in this transaction. If applying fails, nothing changes
    and ``BackendError`` propagates: ``transient=True`` when trying again may work,
    ``transient=False`` (``OfferNotApplicable`` among others) when it cannot; either way the
    customer can still cancel, and an accepted offer is never a broken promise.
    """
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.OPEN], "case_not_open")
        presentation = _pending_presentation(case)
        # A pause shown before another pause was taken must not break the yearly limit.
        pauses.check_pause_offer(case, presentation.offer)
        try:
            applied = fulfilment.fulfil(case, presentation, actor=actor)
        except BackendError as error:
            logger.warning(
                "Offer %s could not be applied to case %s (%s, %s): %s",
                presentation.offer.slug,
                case.reference,
                error.code,
                "transient" if error.transient else "permanent",
                error,
            )
            raise
        now = timezone.now()
        presentation.outcome = OfferOutcome.ACCEPTED
        presentation.decided_at = now
        presentation.applied = applied or {}
        presentation.save(update_fields=["outcome", "decided_at", "applied"])
        transition(
            case,
            [CaseStatus.OPEN],
            CaseStatus.SAVED,
            code="case_not_open",
            saved_at=now,
            closed_at=now,
        )
        _stop_followups(case, "saved")
        # A pause the backend applied gets its record and its reminder (after the stop above).
        pauses.start_pause(case, presentation, actor=actor)
        record(
            case,
            EventKind.OFFER_ACCEPTED,
            signals.offer_accepted,
            actor=actor,
            data={"offer": presentation.offer.slug, "applied": presentation.applied},
            presentation=presentation,
            applied=presentation.applied,
        )
    return case


def decline_offer(case: CancellationCase, *, actor: Actor = None) -> CancellationCase:
    """Decline the offer shown; the case stays open and the cancel button stays where it was."""
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.OPEN], "case_not_open")
        presentation = _pending_presentation(case)
        _decline(case, presentation, actor)
    return case


def _decline(case: CancellationCase, presentation: OfferPresentation, actor: Actor) -> None:
    presentation.outcome = OfferOutcome.DECLINED
    presentation.decided_at = timezone.now()
    presentation.save(update_fields=["outcome", "decided_at"])
    record(
        case,
        EventKind.OFFER_DECLINED,
        signals.offer_declined,
        actor=actor,
        data={"offer": presentation.offer.slug},
        presentation=presentation,
    )


def confirm_cancellation(
    case: CancellationCase,
    *,
    effective: str | None = None,
    actor: Actor = None,
) -> CancellationCase:
    """Confirm the cancellation. Never depends on a reason or an offer answer.

    The cancellation is committed first; only then is the subscription backend asked to apply
    it. If the backend fails, the case stays cancelled with ``provider_sync="pending"`` and
    ``retry_provider_sync`` (run by ``graceful_cancel_sync`` or its Celery task) completes it.
    """
    if effective is not None and effective not in EffectiveMode.values:
        raise InvalidTransition(code="unknown_effective_mode")
    backend = get_backend()
    outer = _outer_transaction_open()
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.OPEN], "case_not_open")
        mode, effective_at = effective_for(
            case.period_end, effective or case.effective_mode, backend=backend
        )
        cancel_locked(
            case,
            [CaseStatus.OPEN],
            mode=mode,
            effective_at=effective_at,
            provider_sync=SyncStatus.PENDING,
            actor=actor,
        )
    _sync_when_committed(case, actor=actor, outer=outer)
    return case


def effective_for(
    period_end: datetime | None, mode: str | None = None, *, backend: Any = None
) -> tuple[str, datetime]:
    """When a cancellation confirmed now takes effect, and in which mode.

    The end of the paid period when asked for, the backend can defer a cancellation, and the
    period has not ended; otherwise at once. The pages show this date before the customer
    confirms, so it must be the rule ``confirm_cancellation`` applies.
    """
    backend = backend or get_backend()
    now = timezone.now()
    mode = mode or app_settings.DEFAULT_EFFECTIVE
    if (
        mode == EffectiveMode.PERIOD_END
        and backend.supports_period_end_cancel
        and period_end is not None
        and period_end > now
    ):
        return EffectiveMode.PERIOD_END, period_end
    return EffectiveMode.IMMEDIATELY, now


def effective_date(case: CancellationCase) -> datetime:
    """When the case's cancellation takes effect: the recorded date once it is confirmed, else
    the date confirming it now would set (``effective_for``: what the pages and the API show
    before the customer confirms)."""
    if case.status != CaseStatus.OPEN and case.effective_at is not None:
        return case.effective_at
    return effective_for(case.period_end, case.effective_mode)[1]


def flow_message_context(case: CancellationCase) -> dict[str, Any]:
    """What the "flow_message" copy needs besides the case, the same for the offer page and the
    API's ``message``: ``effective_at`` (``effective_date``) and ``ends_later`` (it falls on a
    later day than today, in the customer's time zone)."""
    effective_at = effective_date(case)
    return {"effective_at": effective_at, "ends_later": dates.is_after_today(effective_at, case)}


def cancel_locked(
    case: CancellationCase,
    allowed: Iterable[str],
    *,
    mode: str,
    effective_at: datetime,
    provider_sync: str,
    actor: Actor,
    **event_data: Any,
) -> None:
    """Cancel a case already locked by the caller: the one way a case becomes cancelled.

    Used by ``confirm_cancellation`` and by changes reported by the provider
    (``services.external``). Declines a presented offer (pressing "cancel" next to an offer is
    declining it), writes the event, sends ``case_cancelled`` and schedules the follow-ups.
    """
    now = timezone.now()
    # Read with the case's lock by the caller (``lock_case``): no query of its own.
    presentation = cached_presentation(case)
    if presentation is not None and presentation.outcome != OfferOutcome.PRESENTED:
        presentation = None
    was_open = case.status == CaseStatus.OPEN
    transition(
        case,
        allowed,
        CaseStatus.CANCELLED,
        code="case_not_open",
        cancelled_at=now,
        closed_at=now,
        effective_mode=mode,
        effective_at=effective_at,
        provider_sync=provider_sync,
        provider_sync_error="",
    )
    if presentation is not None:
        _decline(case, presentation, actor)
    record(
        case,
        EventKind.CANCELLED,
        signals.case_cancelled,
        actor=actor,
        data={"effective_mode": mode, "effective_at": effective_at.isoformat(), **event_data},
        **_signal_extra(event_data),
    )
    _confirm_to_customer(case, first_time=was_open)


def _signal_extra(event_data: dict[str, Any]) -> dict[str, Any]:
    return {k: event_data[k] for k in ("external", "source") if k in event_data}


def _outer_transaction_open() -> bool:
    """Whether the caller holds a transaction of its own (ATOMIC_REQUESTS, an ``atomic()``).

    The provider must not be told about a change its caller may still roll back, so the sync
    then waits for the commit. Django's test cases wrap each test in atomic blocks flagged
    ``_from_testcase``; those do not count, so tests see what production sees.
    """
    connection = transaction.get_connection()
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _sync_when_committed(case: CancellationCase, *, actor: Actor, outer: bool) -> None:
    if outer:
        transaction.on_commit(lambda: _sync(case, actor=actor), robust=True)
    else:
        _sync(case, actor=actor)


def _confirm_to_customer(case: CancellationCase, *, first_time: bool = False) -> None:
    """Schedule the follow-up sequence in this transaction; the confirmation row is dispatched
    on commit (followups/dispatch.py), so a mail failure never undoes the cancellation.

    If scheduling fails (a sequence setting the checks missed, a database error), that is
    logged with its traceback and the cancellation still stands; staff can schedule the
    follow-ups from the desk.

    ``first_time`` (the case was open until now): it has no follow-ups yet (the desk schedules
    them only for cancelled cases; one row per stage is a constraint), so the rows are planned
    in Python, where a bad sequence setting fails, and inserted with one statement, without a
    savepoint or a look at existing rows (issue 19: two round trips fewer per confirmation).
    Otherwise scheduling runs in a savepoint.
    """
    from ..followups.outbox import plan_sequence, save_sequence, schedule_sequence

    if first_time:
        try:
            rows = plan_sequence(case)
        except Exception:
            logger.exception(
                "Could not plan the follow-ups of case %s; the cancellation stands, and staff "
                "can schedule them from the desk",
                case.reference,
            )
            return
        save_sequence(rows)
        return
    try:
        with transaction.atomic():
            schedule_sequence(case)
    except Exception:
        logger.exception(
            "Could not schedule the follow-ups of case %s; the cancellation stands, and staff "
            "can schedule them from the desk",
            case.reference,
        )


def _stop_followups(case: CancellationCase, why: str) -> None:
    """A saved or reactivated case gets none of the rest of its follow-up sequence."""
    from ..followups.outbox import stop_sequence

    stop_sequence(case, why=why)


def retry_provider_sync(
    case: CancellationCase | int, *, actor: Actor = "system"
) -> CancellationCase:
    """Apply a confirmed cancellation the backend has not applied yet (idempotent)."""
    case = CancellationCase.objects.get(pk=case.pk if isinstance(case, CancellationCase) else case)
    if case.provider_sync == SyncStatus.PENDING:
        _sync(case, actor=actor)
    return case


def _sync(case: CancellationCase, *, actor: Actor) -> None:
    """Ask the backend to apply the case's status; record success or failure, never raise.

    Runs after the commit of the change it applies, in the request that made it: whatever
    fails here (a ``BackendError``, or anything else a backend raises, such as an
    ``ImproperlyConfigured`` field path) leaves the case as committed, with its sync pending
    for ``retry_provider_sync``; an error that is not a ``BackendError`` is logged with its
    traceback and flags the case for staff at once (``needs_attention``).
    """
    try:
        _try_sync(case, actor=actor)
    except Exception:
        # Recording the failure failed too (the database went away...): the case is still
        # committed with its sync pending, and the sweep retries it.
        logger.exception("Could not record the provider sync of case %s", case.reference)


def _try_sync(case: CancellationCase, *, actor: Actor) -> None:
    try:
        backend = get_backend()
        with transaction.atomic():
            locked = _lock_for_sync(case)
            if locked.provider_sync != SyncStatus.PENDING:
                return
            if locked.superseded:
                # A newer case on the same subscription decides what the provider should do;
                # replaying this older one (a late reactivation retry after a new cancellation,
                # say) would undo it there.
                CancellationCase.objects.filter(pk=locked.pk).update(
                    provider_sync=SyncStatus.NOT_NEEDED, updated_at=timezone.now()
                )
                case.provider_sync = SyncStatus.NOT_NEEDED
                record(
                    locked,
                    EventKind.PROVIDER_SYNCED,
                    signals.provider_synced,
                    actor=actor,
                    data={"status": locked.status, "skipped": "superseded by a newer case"},
                )
                return
            # A withdrawal (services/withdrawals.py) ends the subscription at once, like a
            # cancellation with effective_mode "immediately".
            if locked.status in (CaseStatus.CANCELLED, CaseStatus.WITHDRAWN):
                backend.cancel(
                    locked.subscription_ref,
                    at_period_end=locked.effective_mode == EffectiveMode.PERIOD_END,
                    case=locked,
                )
            elif locked.status == CaseStatus.REACTIVATED:
                backend.reactivate(locked.subscription_ref, case=locked)
            CancellationCase.objects.filter(pk=locked.pk).update(
                provider_sync=SyncStatus.SYNCED, provider_sync_error="", updated_at=timezone.now()
            )
            case.provider_sync = SyncStatus.SYNCED
            case.provider_sync_error = ""
            record(
                locked,
                EventKind.PROVIDER_SYNCED,
                signals.provider_synced,
                actor=actor,
                data={"status": locked.status},
            )
    except Exception as raised:
        if isinstance(raised, BackendError):
            error = raised
            logger.warning("Subscription backend failed for case %s: %s", case.reference, error)
        else:
            # Not the provider saying no: a bug or a misconfiguration, which no retry fixes
            # until someone looks. Logged with the traceback, and flagged at once.
            logger.exception(
                "Subscription backend raised %s for case %s; the case stays as the customer "
                "left it, with its provider sync pending",
                type(raised).__name__,
                case.reference,
            )
            error = BackendError(
                f"{type(raised).__name__}: {raised}", code="backend_crashed", transient=False
            )
            error.__cause__ = raised
        with transaction.atomic():
            locked = lock_case(case)
            locked.provider_sync_attempts += 1
            if not isinstance(raised, BackendError):
                locked.provider_sync_attempts = max(
                    locked.provider_sync_attempts, app_settings.PROVIDER_SYNC_MAX_ATTEMPTS
                )
            locked.provider_sync_error = str(error)[:2000]
            locked.provider_sync_next_at = timezone.now() + sync_backoff(
                locked.provider_sync_attempts
            )
            locked.save(
                update_fields=[
                    "provider_sync_attempts",
                    "provider_sync_error",
                    "provider_sync_next_at",
                    "updated_at",
                ]
            )
            case.provider_sync_attempts = locked.provider_sync_attempts
            case.provider_sync_error = locked.provider_sync_error
            case.provider_sync_next_at = locked.provider_sync_next_at
            # Past PROVIDER_SYNC_MAX_ATTEMPTS the case needs a person: the event and the signal
            # say so (the admin lists such cases), and retries go on once a day.
            needs_attention = (
                locked.provider_sync_attempts >= app_settings.PROVIDER_SYNC_MAX_ATTEMPTS
            )
            record(
                locked,
                EventKind.PROVIDER_SYNC_FAILED,
                signals.provider_sync_failed,
                actor=actor,
                data={
                    "error": str(error)[:500],
                    "code": error.code,
                    "transient": error.transient,
                    "attempts": locked.provider_sync_attempts,
                    "needs_attention": needs_attention,
                },
                error=error,
                needs_attention=needs_attention,
            )


def _lock_for_sync(case: CancellationCase) -> Any:
    """``lock_case`` for the provider sync, with whether a newer case of the same subscription
    exists (``superseded``) answered in the same round trip (issue 19)."""
    newer = (
        CancellationCase.objects.filter(
            subscription_ref=OuterRef("subscription_ref"), created_at__gt=OuterRef("created_at")
        )
        .exclude(pk=OuterRef("pk"))
        .values("pk")
    )
    return (
        CancellationCase.objects.select_for_update(of=("self",))
        .select_related("reason")
        .annotate(superseded=Exists(newer))
        .get(pk=case.pk)
    )


def sync_backoff(attempts: int) -> timedelta:
    """Wait before the next provider sync: 1, 2, 4… minutes, at most a day."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 11)), timedelta(days=1))


def reactivate(
    case: CancellationCase, *, actor: Actor = None, after_effect: bool = False
) -> CancellationCase:
    """Undo a cancellation before it takes effect (one click from the confirmation).

    ``after_effect=True`` undoes it even once it has taken effect: for a cancellation the
    customer never sent (``services.declarations.dispute_declaration``).
    """
    outer = _outer_transaction_open()
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.CANCELLED], "case_not_cancelled")
        if not case.can_reactivate and not after_effect:
            raise InvalidTransition(code="reactivation_window_closed")
        # Always ask the provider, even when the cancellation's own sync is still pending: a
        # cancel that timed out may have been applied there all the same, and backends'
        # reactivate is idempotent.
        transition(
            case,
            [CaseStatus.CANCELLED],
            CaseStatus.REACTIVATED,
            code="case_not_cancelled",
            reactivated_at=timezone.now(),
            provider_sync=SyncStatus.PENDING,
            provider_sync_attempts=0,
        )
        _stop_followups(case, "reactivated")
        record(case, EventKind.REACTIVATED, signals.case_reactivated, actor=actor)
    _sync_when_committed(case, actor=actor, outer=outer)
    return case


def abandon(case: CancellationCase, *, actor: Actor = "system") -> CancellationCase:
    """Close an open case the customer left without deciding."""
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.OPEN], "case_not_open")
        transition(
            case,
            [CaseStatus.OPEN],
            CaseStatus.ABANDONED,
            code="case_not_open",
            closed_at=timezone.now(),
        )
        record(case, EventKind.ABANDONED, signals.case_abandoned, actor=actor)
    return case


def abandon_stale(*, older_than_hours: int | None = None, batch_size: int = 500) -> int:
    """Abandon open cases untouched for ``ABANDON_AFTER_HOURS``; returns how many."""
    hours = older_than_hours if older_than_hours is not None else app_settings.ABANDON_AFTER_HOURS
    cutoff = timezone.now() - timedelta(hours=hours)
    count = 0
    pks = list(
        CancellationCase.objects.filter(status=CaseStatus.OPEN, updated_at__lt=cutoff)
        # A no-login declaration (eu profile) left open for staff is a legal notice, not a
        # customer who walked away.
        .filter(declaration__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    for pk in pks:
        try:
            abandon(CancellationCase(pk=pk))
        except InvalidTransition:
            continue  # the customer came back and decided meanwhile
        count += 1
    return count


# --- staff -------------------------------------------------------------------------------------


def assign_owner(case: CancellationCase, owner: Any, *, actor: Actor) -> CancellationCase:
    """Give the case to a staff member (``owner=None`` releases it)."""
    if owner is not None and not getattr(owner, "is_staff", False):
        raise InvalidTransition(code="owner_not_staff")
    with transaction.atomic():
        case = lock_case(case)
        case.owner = owner
        case.save(update_fields=["owner", "updated_at"])
        record(
            case,
            EventKind.OWNER_ASSIGNED,
            signals.owner_assigned,
            actor=actor,
            data={"owner": owner.get_username() if owner is not None else None},
            owner=owner,
        )
    return case


def set_root_cause(
    case: CancellationCase, root_cause: Reason | str | None, *, detail: str = "", actor: Actor
) -> CancellationCase:
    """Record the root cause staff found, next to the stated reason."""
    cause = resolve_reason(root_cause)
    with transaction.atomic():
        case = lock_case(case)
        case.root_cause = cause
        case.root_cause_detail = (detail or "").strip()
        case.save(update_fields=["root_cause", "root_cause_detail", "updated_at"])
        record(
            case,
            EventKind.ROOT_CAUSE_SET,
            signals.root_cause_set,
            actor=actor,
            data={
                "root_cause": cause.slug if cause else None,
                "detail": case.root_cause_detail[:500],
            },
            root_cause=cause,
        )
    return case


def pending_sync_cases(limit: int = 500) -> list[int]:
    """Primary keys of cancelled or reactivated cases the provider has not applied yet and whose
    back-off (``sync_backoff``) has run out."""
    from django.db.models import Q

    return list(
        CancellationCase.objects.filter(provider_sync=SyncStatus.PENDING)
        .filter(
            Q(provider_sync_next_at__isnull=True) | Q(provider_sync_next_at__lte=timezone.now())
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
