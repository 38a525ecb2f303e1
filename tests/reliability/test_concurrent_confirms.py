"""Fifty customers' browsers (or one customer's fifty retries) confirming one case at once.

Each request runs on its own thread with its own database connection, as gunicorn workers
would. ``tests/test_concurrency.py`` proves the basic race with ten threads; this file holds the
issue's figure (50) and what must come out of it: one cancellation, one timeline event, one
confirmation message (one outbox row, sent once), and a clean refusal for every loser.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.followups import outbox as followups
from django_graceful_cancel.models import CancellationCase, FollowUp, OfferPresentation
from tests.support import gc_settings, run_concurrently
from tests.testapp.models import Subscription

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

THREADS = 50


def sent_confirmations(case: CancellationCase) -> int:
    """Confirmation emails that reached the (locmem) mail outbox for the case."""
    return sum(1 for m in mail.outbox if case.reference in m.subject)


@override_settings(
    GRACEFUL_CANCEL=gc_settings(FOLLOWUP_QUIET_HOURS=None, FOLLOWUP_MIN_INTERVAL_HOURS=0)
)
def test_fifty_concurrent_confirms_cancel_once(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    assert services.present_offer(case) is not None
    mail.outbox.clear()

    ok, refused, errors = run_concurrently(
        THREADS,
        lambda: services.confirm_cancellation(
            CancellationCase.objects.get(pk=case.pk), actor=customer
        ),
    )

    assert errors == []
    assert (ok, refused) == (1, THREADS - 1)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    events = list(case.events.values_list("kind", flat=True))
    assert events.count(EventKind.CANCELLED) == 1
    # The pending offer was declined once, by the one request that won.
    assert events.count(EventKind.OFFER_DECLINED) == 1
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert events.count(EventKind.PROVIDER_SYNCED) == 1
    assert Subscription.objects.get(user=customer).cancel_at_period_end is True
    # One confirmation for the customer: one outbox row, sent once by the sweep (a second
    # sweep finds nothing to send).
    assert FollowUp.objects.filter(case=case, stage="confirmation").count() == 1
    assert FollowUp.objects.filter(case=case).count() == len(
        set(FollowUp.objects.filter(case=case).values_list("stage", flat=True))
    )
    followups.sweep_followups()
    followups.sweep_followups()
    assert sent_confirmations(case) == 1


def test_fifty_concurrent_mixed_decisions_apply_exactly_one(make_customer, catalogue):
    """Accept, decline, confirm and abandon racing on one case: exactly one decision wins and
    the timeline, the offer and the status all tell the same story."""
    user = make_customer("racer")
    case, _ = services.start_case(user)
    services.record_reason(case, "temporary")
    assert services.present_offer(case) is not None
    actions = [
        services.confirm_cancellation,
        services.accept_offer,
        services.decline_offer,
        services.abandon,
    ]
    plan = [actions[i % len(actions)] for i in range(THREADS)]
    random.Random(8).shuffle(plan)
    picked = iter(plan)
    lock = threading.Lock()

    def act() -> None:
        with lock:
            action = next(picked)
        action(CancellationCase.objects.get(pk=case.pk))

    ok, refused, errors = run_concurrently(THREADS, act)

    assert errors == []
    assert ok + refused == THREADS
    case.refresh_from_db()
    events = list(case.events.values_list("kind", flat=True))
    terminal = [
        k
        for k in events
        if k in (EventKind.CANCELLED, EventKind.OFFER_ACCEPTED, EventKind.ABANDONED)
    ]
    assert len(terminal) == 1
    presentation = OfferPresentation.objects.get(case=case)
    assert events.count(EventKind.OFFER_PRESENTED) == 1
    assert events.count(EventKind.OFFER_DECLINED) <= 1
    expected_status = {
        EventKind.CANCELLED: CaseStatus.CANCELLED,
        EventKind.OFFER_ACCEPTED: CaseStatus.SAVED,
        EventKind.ABANDONED: CaseStatus.ABANDONED,
    }[terminal[0]]
    assert case.status == expected_status
    if case.status == CaseStatus.SAVED:
        assert presentation.outcome == OfferOutcome.ACCEPTED
        assert EventKind.OFFER_DECLINED not in events
    else:
        assert presentation.outcome in (OfferOutcome.DECLINED, OfferOutcome.PRESENTED)
    # Successful calls: the one terminal decision, plus possibly one decline that came first.
    assert ok in (1, 2)
    if ok == 2:
        assert EventKind.OFFER_DECLINED in events and case.status != CaseStatus.SAVED


def test_fifty_concurrent_starts_and_confirms_of_many_customers(make_customer, catalogue):
    """Fifty different customers cancelling at the same moment: no deadlock, no lost case."""
    users = [make_customer(f"crowd{i}") for i in range(THREADS)]
    queue = list(users)
    lock = threading.Lock()

    def act() -> Any:
        with lock:
            user = queue.pop()
        case, _ = services.start_case(user)
        services.record_reason(case, "price", detail="too dear")
        services.confirm_cancellation(case, actor=user)

    ok, refused, errors = run_concurrently(THREADS, act)
    assert errors == []
    assert (ok, refused) == (THREADS, 0)
    assert CancellationCase.objects.filter(status=CaseStatus.CANCELLED).count() == THREADS
    assert not CancellationCase.objects.filter(status=CaseStatus.OPEN).exists()
    with pytest.raises(InvalidTransition):
        services.confirm_cancellation(CancellationCase.objects.first())
    assert connection.vendor == "postgresql"
