"""Faults outside the database, end to end: the billing provider failing at confirm (pages and
API), and the ESP failing for a while (anymail's API error) then recovering, or for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, EventKind, FollowUpStatus, SyncStatus
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.followups import outbox as followups
from django_graceful_cancel.models import CancellationCase, FollowUp
from tests.support import gc_settings
from tests.support.reliability import DownBackend, FlakyESP
from tests.testapp.models import Subscription

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

DOWN = gc_settings(
    SUBSCRIPTION_BACKEND="tests.support.reliability.DownBackend", FOLLOWUP_DISPATCH="sweep"
)
QUIET_FREE = gc_settings(
    FOLLOWUP_DISPATCH="sweep",
    FOLLOWUP_QUIET_HOURS=None,
    FOLLOWUP_MIN_INTERVAL_HOURS=0,
    FOLLOWUP_RETRY_BACKOFF_SECONDS=60,
    FOLLOWUP_MAX_ATTEMPTS=5,
)


# --- the subscription backend failing at confirm -----------------------------------------------


def _assert_pending_then_synced(case: CancellationCase, customer) -> None:
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.provider_sync == SyncStatus.PENDING
    assert Subscription.objects.get(user=customer).cancel_at_period_end is False
    # The customer cannot start a second cancellation while the first waits for the provider.
    with pytest.raises(InvalidTransition) as info:
        services.start_case(customer)
    assert info.value.code == "already_cancelled"
    DownBackend.down = False
    # The retry waits out its back-off (1, 2, 4... minutes): run the sync command an hour later.
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        call_command("graceful_cancel_sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert case.status == CaseStatus.CANCELLED
    assert Subscription.objects.get(user=customer).cancel_at_period_end is True
    assert case.events.filter(kind=EventKind.CANCELLED).count() == 1


@override_settings(GRACEFUL_CANCEL=DOWN)
def test_pages_confirm_while_the_provider_is_down(client, customer, catalogue):
    DownBackend.down = False  # reading the subscription works; only the cancel call fails
    client.force_login(customer)
    case, _ = services.start_case(customer)
    DownBackend.down = True
    response = client.post(reverse("graceful_cancel:confirm", args=[case.reference]), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("graceful_cancel:done", args=[case.reference])
    assert case.reference in response.content.decode()
    # The row for the confirmation message exists whatever the provider did.
    assert FollowUp.objects.filter(case=case, stage="confirmation").exists()
    _assert_pending_then_synced(case, customer)


@override_settings(GRACEFUL_CANCEL=DOWN)
def test_api_confirm_while_the_provider_is_down(client, customer, catalogue):
    DownBackend.down = False
    client.force_login(customer)
    created = client.post(reverse("graceful_cancel_api:case-list"), {}, "application/json")
    reference = created.json()["reference"]
    DownBackend.down = True
    response = client.post(
        reverse("graceful_cancel_api:case-confirm", args=[reference]), {}, "application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == CaseStatus.CANCELLED
    _assert_pending_then_synced(CancellationCase.objects.get(reference=reference), customer)


# --- the ESP failing for a while ---------------------------------------------------------------


def _cancelled_cases(make_customer, count: int) -> list[CancellationCase]:
    cases = []
    for i in range(count):
        user = make_customer(f"esp{i}")
        case, _ = services.start_case(user)
        services.record_reason(case, "price", contact_consent=True)
        cases.append(services.confirm_cancellation(case))
    return cases


def test_esp_outage_then_recovery_every_message_goes_out_once(
    make_customer, catalogue, email_backend, settings
):
    # The settings fixture for both: mixed with @override_settings, teardown order leaks.
    settings.GRACEFUL_CANCEL = QUIET_FREE
    email_backend("tests.support.reliability.FlakyESP")
    cases = _cancelled_cases(make_customer, 12)
    rows = FollowUp.objects.filter(case__in=cases, channel="email")
    due_now = list(rows.filter(due_at__lte=timezone.now()).values_list("pk", flat=True))
    assert len(due_now) == 12  # the confirmations
    FlakyESP.reset(outage=30)  # down for the first 30 attempts: more than two full rounds

    start = timezone.now()
    for hour in range(0, 24 * 40, 6):  # sweep every 6 hours for 40 days (the whole sequence)
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            followups.sweep_followups()
    assert FlakyESP.outage == 0 and FlakyESP.refused == 30

    statuses = set(rows.values_list("status", flat=True))
    assert statuses == {FollowUpStatus.SENT}, list(rows.values("stage", "status", "last_error"))
    sent = FlakyESP.sent
    assert set(sent) == {str(pk) for pk in rows.values_list("pk", flat=True)}
    assert set(sent.values()) == {1}, "a message went out twice"
    retried = rows.filter(attempts__gt=1)
    assert retried.count() >= 12  # every confirmation failed at least once, then went
    assert not rows.exclude(last_error="").exists()
    for case in cases:
        assert (
            case.events.filter(kind=EventKind.MESSAGE_SENT).count()
            == rows.filter(case=case).count()
        )


def test_esp_permanent_failure_is_recorded_and_visible_in_the_admin(
    make_customer, catalogue, email_backend, admin_client, settings
):
    # The settings fixture for both: mixed with @override_settings, teardown order leaks.
    settings.GRACEFUL_CANCEL = QUIET_FREE
    email_backend("tests.support.reliability.FlakyESP")
    good, bad = _cancelled_cases(make_customer, 2)
    FlakyESP.reset(permanent={bad.customer.email})
    followups.sweep_followups()
    bad_row = FollowUp.objects.get(case=bad, stage="confirmation")
    good_row = FollowUp.objects.get(case=good, stage="confirmation")
    assert good_row.status == FollowUpStatus.SENT
    assert bad_row.status == FollowUpStatus.FAILED
    assert bad_row.attempts == 1  # a 400 is not retried
    assert "HTTP 400" in bad_row.last_error
    assert bad.events.filter(kind=EventKind.MESSAGE_STATUS, data__status="failed").exists()
    bad.refresh_from_db()
    assert bad.status == CaseStatus.CANCELLED  # the cancellation stands

    page = admin_client.get(
        reverse("admin:graceful_cancel_cancellationcase_change", args=[bad.pk])
    ).content.decode()
    assert "HTTP 400" in page and "Failed" in page


def test_esp_down_longer_than_the_attempts_fails_the_row_visibly(
    make_customer, catalogue, email_backend, settings
):
    # The settings fixture for both: mixed with @override_settings, teardown order leaks.
    settings.GRACEFUL_CANCEL = QUIET_FREE
    email_backend("tests.support.reliability.FlakyESP")
    (case,) = _cancelled_cases(make_customer, 1)
    FlakyESP.reset(outage=1000)
    start = timezone.now()
    for hour in range(0, 48):
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            followups.sweep_followups()
    row = FollowUp.objects.get(case=case, stage="confirmation")
    assert row.status == FollowUpStatus.FAILED
    assert row.attempts == 5
    assert "HTTP 503" in row.last_error
    assert FlakyESP.sent == {}
