"""Nothing after the commit can undo a customer's decision or answer 500 (issue 13, items 3 and 4).

* Every signal of ``signals.py`` reaches its receivers after the commit; a receiver that raises
  is logged with its exception and never propagates: the change stays and the page or the API
  answers as usual.
* A backend that raises anything after a confirmation (the renewal field path that passed the
  checks and raised ``ImproperlyConfigured``), a follow-up dispatcher that fails, follow-ups
  that cannot be scheduled, a message that cannot be rendered: the customer still sees the
  confirmation, and the problem is logged (and the case flagged for staff).

These tests commit for real (``transaction=True``) where the point is what happens at the
commit, in the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.dispatch import Signal as DjangoSignal
from django.test import Client
from django.urls import reverse

from django_graceful_cancel import services, signals
from django_graceful_cancel.choices import (
    CaseStatus,
    EventKind,
    FollowUpStatus,
    OfferOutcome,
    SyncStatus,
)
from django_graceful_cancel.conf import app_settings
from django_graceful_cancel.followups.dispatch import BaseDispatcher
from django_graceful_cancel.followups.links import make_token
from django_graceful_cancel.models import CancellationCase, FollowUp, OfferPresentation
from tests.support import flow_settings
from tests.testapp.models import Subscription

LOGGER = "django_graceful_cancel"

#: Every signal the app defines, found in the module (a new one is covered at once).
ALL_SIGNALS = sorted(
    name for name, value in vars(signals).items() if isinstance(value, DjangoSignal)
)


class Broken(RuntimeError):
    """What the host's buggy receiver raises."""


def url(name: str, case: CancellationCase | None = None) -> str:
    return reverse(f"graceful_cancel:{name}", args=[case.reference] if case else [])


def api(path: str = "") -> str:
    return f"/api/cancel/cases/{path}"


@pytest.fixture
def raising() -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """``raising(name)`` connects a receiver to signal ``name`` that records its call and
    raises ``Broken``; returns the list of its calls. Disconnected after the test."""
    connected: list[tuple[DjangoSignal, Callable[..., Any]]] = []

    def connect(name: str) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []

        def receiver(**kwargs: Any) -> None:
            calls.append(kwargs)
            raise Broken(f"the host's {name} receiver is broken")

        signal = getattr(signals, name)
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return calls

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def receiver_errors(caplog: Any, name: str) -> list[logging.LogRecord]:
    """Log records of our logger about a raising receiver of signal ``name``, with the
    exception attached."""
    return [
        record
        for record in caplog.records
        if record.name == LOGGER
        and f" {name} signal" in record.getMessage()
        and record.exc_info is not None
        and isinstance(record.exc_info[1], Broken)
    ]


# --- the mechanism, for every signal -------------------------------------------------------------


def test_every_signal_is_sent_after_the_commit_and_robustly():
    assert len(ALL_SIGNALS) >= 25
    plain = [name for name in ALL_SIGNALS if not isinstance(getattr(signals, name), signals.Signal)]
    assert plain == [], "signals.py must define these with its own Signal class"
    assert {getattr(signals, name).name for name in ALL_SIGNALS} == set(ALL_SIGNALS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ALL_SIGNALS)
def test_a_raising_receiver_runs_after_the_commit_and_undoes_nothing(name, raising, caplog):
    calls = raising(name)
    healthy: list[dict[str, Any]] = []
    signal = getattr(signals, name)
    signal.connect(receiver := lambda **kw: healthy.append(kw), weak=False)
    user_model = get_user_model()
    try:
        with caplog.at_level(logging.ERROR, logger=LOGGER), transaction.atomic():
            user_model.objects.create(username="changed")  # the change the signal is about
            sent = signal.send(sender=CancellationCase, case=None, actor=None)
            assert calls == [] and healthy == []  # nothing before the commit
    finally:
        signal.disconnect(receiver)
    assert sent == []
    assert user_model.objects.filter(username="changed").exists()  # the change stands
    assert len(calls) == 1 and calls[0]["sender"] is CancellationCase
    assert len(healthy) == 1  # the other receivers still run
    [record] = receiver_errors(caplog, name)
    assert record.levelno == logging.ERROR


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["case_cancelled", "followup_sent", "customer_exported"])
def test_a_rolled_back_change_sends_nothing(name, raising):
    calls = raising(name)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        getattr(signals, name).send(sender=CancellationCase, case=None, actor=None)
        _ = 1 / 0
    assert calls == []


# --- the customer's pages and the API, with a raising receiver on each signal ---------------------

#: The signals the tour below sends; the test after it checks the list is right.
TOUR_SIGNALS = [
    "case_started",
    "reason_recorded",
    "offer_presented",
    "offer_declined",
    "case_cancelled",
    "provider_synced",
    "followup_sent",
    "case_reactivated",
    "offer_accepted",
    "survey_answered",
    "opted_out",
    "note_added",
    "owner_assigned",
    "root_cause_set",
    "followups_cancelled",
    "followups_scheduled",
    "external_change_recorded",
    "case_abandoned",
    "customer_exported",
]


def tour(make_customer: Callable[..., Any], staff: Any) -> None:
    """A cancellation, a reactivation and a save on the pages, the API and the signed links, and
    the desk's changes, asserting each answer and each change as it goes."""
    # 1. Pages: a reason, its offer declined by cancelling, the confirmation, then reactivation.
    alice = make_customer("alice")
    page = Client()
    page.force_login(alice)
    response = page.post(url("start"), {"action": "continue", "reason": "price"})
    case = CancellationCase.objects.get(customer=alice)
    assert (response.status_code, response["Location"]) == (302, url("offer", case))
    assert page.get(url("offer", case)).status_code == 200
    assert OfferPresentation.objects.filter(case=case).exists()
    response = page.post(url("offer", case), {"detail": "Five euros a month"})
    assert response.status_code == 302
    response = page.post(url("confirm", case))
    assert (response.status_code, response["Location"]) == (302, url("done", case))
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED and case.provider_sync == SyncStatus.SYNCED
    assert case.reason_detail == "Five euros a month"
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert Subscription.objects.get(user=alice).cancel_at_period_end is True
    assert page.get(url("done", case)).status_code == 200
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]  # the confirmation went
    assert page.post(url("reactivate", case)).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED and case.provider_sync == SyncStatus.SYNCED
    assert page.get(url("reactivate", case)).status_code == 200

    # 2. The API: a pause accepted (a save), then another customer's cancellation.
    ben = make_customer("ben")
    client = Client()
    client.force_login(ben)
    response = client.post(api(), {}, content_type="application/json")
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    response = client.post(
        api(f"{reference}/reason/"), {"reason": "temporary"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["offer"]["kind"] == "pause"
    response = client.post(api(f"{reference}/accept-offer/"), {}, content_type="application/json")
    assert (response.status_code, response.json()["status"]) == (200, CaseStatus.SAVED)
    saved = CancellationCase.objects.get(reference=reference)
    assert Subscription.objects.get(user=ben).paused_until is not None

    carol = make_customer("carol")
    client.force_login(carol)
    reference = client.post(api(), {}, content_type="application/json").json()["reference"]
    response = client.post(api(f"{reference}/confirm/"), {}, content_type="application/json")
    assert (response.status_code, response.json()["status"]) == (200, CaseStatus.CANCELLED)
    cancelled = CancellationCase.objects.get(reference=reference)

    # 3. The signed links of the follow-ups: the survey and the unsubscribe page.
    links = Client()
    response = links.post(
        reverse("graceful_cancel:link_survey", args=[make_token("survey", cancelled.pk)]),
        {"score": "7", "comment": "fine"},
    )
    assert response.status_code == 200
    cancelled.refresh_from_db()
    assert cancelled.survey_score == 7
    response = links.post(
        reverse("graceful_cancel:link_unsubscribe", args=[make_token("unsubscribe", cancelled.pk)])
    )
    assert response.status_code == 200

    # 4. The desk, the provider, housekeeping and privacy.
    services.add_note(cancelled, "Called back", actor=staff)
    services.assign_owner(cancelled, staff, actor=staff)
    services.set_root_cause(cancelled, "price", actor=staff)
    services.cancel_followups(cancelled, actor=staff)
    FollowUp.objects.filter(case=cancelled).delete()
    assert services.schedule_followups(cancelled, actor=staff) > 0
    services.record_external_cancellation(saved.subscription_ref, immediately=True)
    saved.refresh_from_db()
    assert saved.status == CaseStatus.SAVED
    dave = make_customer("dave")
    left, _ = services.start_case(dave)
    services.abandon(left)
    services.export_customer_data(carol, actor=staff)
    cancelled.refresh_from_db()
    assert cancelled.owner == staff and cancelled.root_cause is not None
    assert cancelled.events.filter(kind=EventKind.NOTE_ADDED).exists()
    assert CancellationCase.objects.get(pk=left.pk).status == CaseStatus.ABANDONED


@pytest.fixture
def tour_settings(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings(FOLLOWUP_QUIET_HOURS=None)


@pytest.mark.django_db(transaction=True)
def test_the_tour_sends_the_signals_it_claims(tour_settings, make_customer, staff_user, catalogue):
    seen: set[str] = set()
    receivers = []
    for name in ALL_SIGNALS:

        def spy(name: str = name, **kwargs: Any) -> None:
            seen.add(name)

        getattr(signals, name).connect(spy, weak=False)
        receivers.append((getattr(signals, name), spy))
    try:
        tour(make_customer, staff_user)
    finally:
        for signal, spy in receivers:
            signal.disconnect(spy)
    assert seen >= set(TOUR_SIGNALS), sorted(set(TOUR_SIGNALS) - seen)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", TOUR_SIGNALS)
def test_pages_and_api_answer_as_usual_when_a_receiver_raises(
    name, raising, caplog, tour_settings, make_customer, staff_user, catalogue
):
    calls = raising(name)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        tour(make_customer, staff_user)  # every answer and every change as without the receiver
    assert calls, f"the tour never sent {name}"
    assert len(receiver_errors(caplog, name)) == len(calls)


# --- after the commit: the backend, the dispatcher, the follow-ups, the message -----------------


@pytest.fixture
def misconfigured(settings: Any) -> None:
    """The renewal field path that passed the checks and raised ImproperlyConfigured."""
    settings.GRACEFUL_CANCEL = flow_settings(
        SUBSCRIPTION_BACKEND="tests.support.backends.MisconfiguredBackend"
    )


@pytest.mark.django_db(transaction=True)
def test_a_backend_that_raises_after_the_commit_still_shows_the_confirmation(
    misconfigured, customer, catalogue, caplog
):
    page = Client()
    page.force_login(customer)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        response = page.post(url("start"), {"action": "cancel"})
    case = CancellationCase.objects.get(customer=customer)
    assert (response.status_code, response["Location"]) == (302, url("done", case))
    done = page.get(url("done", case))
    assert done.status_code == 200
    assert "Your subscription is cancelled" in done.content.decode()
    assert case.status == CaseStatus.CANCELLED
    # The pending-sync path, flagged for staff at once: no retry fixes a misconfiguration.
    assert case.provider_sync == SyncStatus.PENDING
    assert case.provider_sync_attempts >= app_settings.PROVIDER_SYNC_MAX_ATTEMPTS
    assert "ImproperlyConfigured" in case.provider_sync_error
    failed = case.events.get(kind=EventKind.PROVIDER_SYNC_FAILED)
    assert failed.data["needs_attention"] is True and failed.data["code"] == "backend_crashed"
    logged = [r for r in caplog.records if r.name == LOGGER and r.exc_info]
    assert any(type(r.exc_info[1]).__name__ == "ImproperlyConfigured" for r in logged)
    assert [m.to for m in mail.outbox] == [[customer.email]]  # the confirmation still went


@pytest.mark.django_db(transaction=True)
def test_the_api_confirms_and_reactivates_when_the_backend_raises_after_the_commit(
    misconfigured, customer, catalogue
):
    client = Client()
    client.force_login(customer)
    reference = client.post(api(), {}, content_type="application/json").json()["reference"]
    response = client.post(api(f"{reference}/confirm/"), {}, content_type="application/json")
    assert (response.status_code, response.json()["status"]) == (200, CaseStatus.CANCELLED)
    response = client.post(api(f"{reference}/reactivate/"), {}, content_type="application/json")
    assert (response.status_code, response.json()["status"]) == (200, CaseStatus.REACTIVATED)
    case = CancellationCase.objects.get(reference=reference)
    assert case.provider_sync == SyncStatus.PENDING  # retried by graceful_cancel_sync


@pytest.mark.django_db(transaction=True)
def test_provider_sync_failed_reports_the_crash_as_needing_attention(
    misconfigured, customer, catalogue
):
    received: list[dict[str, Any]] = []
    signals.provider_sync_failed.connect(receiver := lambda **kw: received.append(kw))
    try:
        case, _ = services.start_case(customer)
        services.confirm_cancellation(case)
    finally:
        signals.provider_sync_failed.disconnect(receiver)
    [call] = received
    assert call["needs_attention"] is True
    assert call["error"].code == "backend_crashed" and call["error"].transient is False
    assert type(call["error"].__cause__).__name__ == "ImproperlyConfigured"


class RaisingDispatcher(BaseDispatcher):
    """A site's dispatcher with a bug."""

    def dispatch(self, pks: list[int]) -> None:
        raise RuntimeError("queue down")


class RaisingOnCommitDispatcher(BaseDispatcher):
    """A dispatcher that fails before it even registers its on-commit call."""

    def dispatch_on_commit(self, pks: list[int]) -> None:
        raise RuntimeError("cannot even queue")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "dispatcher",
    [
        "tests.test_after_commit.RaisingDispatcher",
        "tests.test_after_commit.RaisingOnCommitDispatcher",
        "tests.nowhere.Dispatcher",  # cannot be imported
    ],
)
def test_a_failing_dispatcher_leaves_the_confirmation_to_the_sweep(
    dispatcher, settings, customer, catalogue, caplog
):
    settings.GRACEFUL_CANCEL = flow_settings(FOLLOWUP_DISPATCH=dispatcher)
    page = Client()
    page.force_login(customer)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        response = page.post(url("start"), {"action": "cancel"})
    case = CancellationCase.objects.get(customer=customer)
    assert (response.status_code, response["Location"]) == (302, url("done", case))
    assert case.status == CaseStatus.CANCELLED
    confirmation = FollowUp.objects.get(case=case, stage="confirmation")
    assert confirmation.status == FollowUpStatus.SCHEDULED  # the sweep sends it
    assert any(r.name == LOGGER and r.exc_info for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_follow_ups_that_cannot_be_scheduled_do_not_undo_the_cancellation(
    settings, customer, catalogue, caplog
):
    settings.GRACEFUL_CANCEL = flow_settings()
    page = Client()
    page.force_login(customer)
    # A cancellation plans its rows in Python (where a bad sequence fails) and inserts them in
    # one statement (services.cases._schedule_followups).
    with (
        mock.patch(
            "django_graceful_cancel.followups.outbox.plan_sequence",
            side_effect=RuntimeError("sequence broken"),
        ),
        caplog.at_level(logging.ERROR, logger=LOGGER),
    ):
        response = page.post(url("start"), {"action": "cancel"})
    case = CancellationCase.objects.get(customer=customer)
    assert (response.status_code, response["Location"]) == (302, url("done", case))
    assert case.status == CaseStatus.CANCELLED
    assert any("Could not plan the follow-ups" in r.getMessage() for r in caplog.records)
    assert not case.followups.exists()


@pytest.mark.django_db
def test_the_api_answers_a_confirmation_even_when_its_message_fails_to_render(
    settings, customer, catalogue, caplog
):
    settings.GRACEFUL_CANCEL = flow_settings()
    client = Client()
    client.force_login(customer)
    reference = client.post(api(), {}, content_type="application/json").json()["reference"]
    with (
        mock.patch("django_graceful_cancel.rendering.render_message", side_effect=KeyError("x")),
        caplog.at_level(logging.ERROR, logger=LOGGER),
    ):
        response = client.post(api(f"{reference}/confirm/"), {}, content_type="application/json")
    assert (response.status_code, response.json()["status"]) == (200, CaseStatus.CANCELLED)
    assert response.json()["message"] == ""
    assert any("failed to render" in r.getMessage() for r in caplog.records)
