"""The follow-up outbox: sequences, sending, retries, respect rules, channels and signed links."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from anymail.exceptions import AnymailAPIError
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services, signals, tasks
from django_graceful_cancel.checks import check_settings
from django_graceful_cancel.choices import (
    CallTaskStatus,
    CaseStatus,
    EventKind,
    FollowUpStatus,
)
from django_graceful_cancel.followups import actions, links, sequences
from django_graceful_cancel.followups import outbox as followups
from django_graceful_cancel.followups.channels import ChannelError
from django_graceful_cancel.followups.channels.console import ConsoleSMSChannel
from django_graceful_cancel.followups.channels.twilio import TwilioSMSChannel
from django_graceful_cancel.models import CallTask, CancellationCase, FollowUp, OptOut
from tests.support import gc_settings

pytestmark = pytest.mark.django_db

NO_LIMITS = {"FOLLOWUP_QUIET_HOURS": None, "FOLLOWUP_MIN_INTERVAL_HOURS": 0}
# Noon UTC: outside the default quiet hours for a customer in UTC.
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("UTC"))


def cancel(customer: Any, reason: str | None = None, **contact: Any) -> CancellationCase:
    """A confirmed cancellation by a customer who agreed to follow-ups, unless told otherwise."""
    case, _ = services.start_case(customer, language="en")
    contact.setdefault("contact_consent", True)
    services.record_reason(case, reason, **contact)
    return services.confirm_cancellation(case)


def rows(case: CancellationCase) -> dict[str, FollowUp]:
    return {f.stage: f for f in FollowUp.objects.filter(case=case)}


def kinds(case: CancellationCase) -> list[str]:
    return list(case.events.order_by("pk").values_list("kind", flat=True))


def make_due(*followups_: FollowUp) -> None:
    FollowUp.objects.filter(pk__in=[f.pk for f in followups_]).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


class FlakyESP:
    """A mail backend that raises anymail's API error for its first ``failures`` sends."""

    failures = 0
    sent: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        if FlakyESP.failures > 0:
            FlakyESP.failures -= 1
            raise AnymailAPIError("ESP unavailable", status_code=None)
        FlakyESP.sent.extend(messages)
        return len(messages)


class RejectingESP(FlakyESP):
    def send_messages(self, messages: list[Any]) -> int:
        response = requests.Response()
        response.status_code, response.reason = 400, "Bad Request"
        response._content = b'{"message": "invalid recipient"}'
        raise AnymailAPIError("invalid recipient", status_code=400, response=response)


# --- scheduling --------------------------------------------------------------------------------


def test_confirm_schedules_the_default_sequence_in_the_same_transaction(customer, catalogue):
    case = cancel(customer, "quality")
    found = rows(case)
    assert set(found) == {"confirmation", "thank_you", "survey", "winback"}
    assert {f.channel for f in found.values()} == {"email"}
    assert all(f.status == FollowUpStatus.SCHEDULED for f in found.values())
    base = case.cancelled_at
    assert found["confirmation"].due_at <= timezone.now()
    assert found["thank_you"].due_at - base == pytest.approx(timedelta(days=3), abs=timedelta(1))
    assert abs((found["thank_you"].due_at - base) - timedelta(days=3)) < timedelta(seconds=5)
    assert abs((found["survey"].due_at - base) - timedelta(days=7)) < timedelta(seconds=5)
    assert found["confirmation"].customer_id == customer.pk


@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp", "phone"])
def test_without_consent_only_the_receipt_goes_and_only_by_email(channel, customer, catalogue):
    # Product principle 5: no consent, no contact. The confirmation is the legal receipt of the
    # cancellation, so it still goes, by email, whatever channel was picked next to the box.
    case = cancel(
        customer,
        "quality",
        preferred_channel=channel,
        contact_consent=False,
        contact_phone="+34600000009",
    )
    assert [(f.stage, f.channel) for f in rows(case).values()] == [("confirmation", "email")]


def test_a_step_without_consent_reaches_a_customer_who_declined_by_email_only(customer, catalogue):
    case, _ = services.start_case(customer, language="en")
    services.record_reason(case, "quality", preferred_channel="sms", contact_consent=False)
    # Whatever record_reason keeps, a number without consent is never used.
    CancellationCase.objects.filter(pk=case.pk).update(contact_phone="+34600000010")
    case.refresh_from_db()
    for step in ("preferred", "sms", "phone"):
        resolved = sequences.resolve_channel(case, sequences.Step("thank_you", 3, step))
        assert resolved == "email", step


def test_consent_adds_the_winback_on_the_preferred_channel(customer, catalogue):
    case = cancel(
        customer,
        "quality",
        preferred_channel="sms",
        contact_consent=True,
        contact_phone="+34600000006",  # a number that exists: "+3460" is refused (issue 14)
    )
    found = rows(case)
    assert set(found) == {"confirmation", "thank_you", "survey", "winback"}
    assert found["confirmation"].channel == "email"  # the receipt always goes by email
    assert {found[s].channel for s in ("thank_you", "survey", "winback")} == {"sms"}
    assert abs((found["winback"].due_at - case.cancelled_at) - timedelta(days=30)) < timedelta(
        seconds=5
    )


def test_a_phone_channel_without_a_number_falls_back_to_email(customer, catalogue):
    case = cancel(customer, "quality", preferred_channel="whatsapp")
    assert {f.channel for f in rows(case).values()} == {"email"}


@override_settings(
    GRACEFUL_CANCEL=gc_settings(
        FOLLOWUP_SEQUENCES={
            "price": [
                {"stage": "confirmation", "days": 0, "channel": "email"},
                {"stage": "winback", "days": 14, "channel": "email"},
            ]
        }
    )
)
def test_sequences_are_configurable_per_reason(make_customer, catalogue):
    price = cancel(make_customer(), "price")
    other = cancel(make_customer(), "quality")
    assert set(rows(price)) == {"confirmation", "winback"}
    assert abs(
        (rows(price)["winback"].due_at - price.cancelled_at) - timedelta(days=14)
    ) < timedelta(seconds=5)
    assert set(rows(other)) == {"confirmation", "thank_you", "survey", "winback"}


@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_SECONDS_PER_DAY=2))
def test_seconds_per_day_shrinks_the_delays(customer, catalogue):
    case = cancel(customer)
    delay = rows(case)["survey"].due_at - case.cancelled_at
    assert timedelta(seconds=13) < delay < timedelta(seconds=15)


def test_bad_sequences_fail_the_system_check(settings):
    base = gc_settings()
    settings.GRACEFUL_CANCEL = {
        **base,
        "FOLLOWUP_SEQUENCES": {"default": [{"stage": "x", "days": -1, "channel": "pigeon"}]},
    }
    errors = check_settings()
    assert [e.id for e in errors if "FOLLOWUP_SEQUENCES" in e.msg] == ["graceful_cancel.E003"]
    settings.GRACEFUL_CANCEL = {**base, "FOLLOWUP_QUIET_HOURS": [25, 8], "FOLLOWUP_DISPATCH": "x"}
    assert len([e for e in check_settings() if e.id == "graceful_cancel.E003"]) == 2


# --- dispatch on commit ------------------------------------------------------------------------


def test_the_confirmation_is_enqueued_on_commit(
    customer, catalogue, django_capture_on_commit_callbacks
):
    with mock.patch.object(tasks.send_followup, "apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            case = cancel(customer)
        assert apply_async.call_count == 0  # nothing leaves before the commit
        for callback in callbacks:
            callback()
    confirmation = rows(case)["confirmation"]
    assert [c.args[0] for c in apply_async.call_args_list] == [(confirmation.pk,)]


def test_a_broker_failure_at_commit_loses_nothing(
    customer, catalogue, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(tasks.send_followup, "apply_async", side_effect=OSError("no broker")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        case = cancel(customer)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert rows(case)["confirmation"].status == FollowUpStatus.SCHEDULED
    assert mail.outbox == []
    assert followups.sweep_followups() == 1
    assert rows(case)["confirmation"].status == FollowUpStatus.SENT
    assert len(mail.outbox) == 1 and case.reference in mail.outbox[0].subject


# --- sending -----------------------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_send_task_sends_an_email_with_unsubscribe_headers_and_tracking_metadata(
    customer, catalogue
):
    case = cancel(customer, "quality")
    thank_you = rows(case)["thank_you"]
    make_due(thank_you)
    assert tasks.send_followup(thank_you.pk) == FollowUpStatus.SENT
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "Thank you" in message.subject
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert "/l/unsubscribe/" in unsubscribe
    assert message.tags == ["graceful-cancel", "thank_you"]
    assert message.metadata == {
        "followup": str(thank_you.pk),
        "case": case.reference,
        "stage": "thank_you",
    }
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "/l/reactivate/" in html
    assert "/l/reactivate/" in message.body
    thank_you.refresh_from_db()
    assert (thank_you.status, thank_you.attempts) == (FollowUpStatus.SENT, 1)
    assert thank_you.sent_at is not None and thank_you.recipient == "alice@example.com"
    assert thank_you.source.endswith("thank_you/default_message.txt")
    event = case.events.filter(kind=EventKind.MESSAGE_SENT).get()
    assert event.data["stage"] == "thank_you"


@time_machine.travel(NOON, tick=False)
def test_sending_twice_sends_once(customer, catalogue):
    case = cancel(customer)
    confirmation = rows(case)["confirmation"]
    with mock.patch.object(signals.followup_sent, "send") as sent:
        tasks.send_followup(confirmation.pk)
        tasks.send_followup(confirmation.pk)
        followups.sweep_followups()
    assert len(mail.outbox) == 1
    assert sent.call_count == 1


def test_nothing_is_sent_before_it_is_due(customer, catalogue):
    case = cancel(customer)
    assert tasks.send_followup(rows(case)["survey"].pk) == FollowUpStatus.SCHEDULED
    assert mail.outbox == []


@override_settings(GRACEFUL_CANCEL=gc_settings(**NO_LIMITS))
def test_reason_specific_copy(make_customer, catalogue):
    case = cancel(make_customer(), "price", contact_consent=True)
    winback = rows(case)["winback"]
    make_due(winback)
    tasks.send_followup(winback.pk)
    winback.refresh_from_db()
    assert winback.source.endswith("winback/price_message.txt")
    assert "budget" in mail.outbox[0].subject


@override_settings(GRACEFUL_CANCEL=gc_settings(**NO_LIMITS))
def test_the_sweep_works_in_bounded_batches(make_customer, catalogue):
    cases = [cancel(make_customer()) for _ in range(5)]
    assert followups.sweep_followups(batch_size=2, max_batches=2) == 4
    assert len(mail.outbox) == 4
    assert followups.sweep_followups(batch_size=2, max_batches=2) == 1
    assert len(mail.outbox) == 5
    assert {rows(c)["confirmation"].status for c in cases} == {FollowUpStatus.SENT}


def test_the_command_runs_the_sweep(customer, catalogue):
    cancel(customer)
    out = io.StringIO()
    call_command("graceful_cancel_send_followups", stdout=out)
    assert "1 follow-up(s) handled" in out.getvalue()
    assert len(mail.outbox) == 1


def test_a_stale_sending_row_goes_back_to_the_queue(customer, catalogue):
    case = cancel(customer)
    confirmation = rows(case)["confirmation"]
    FollowUp.objects.filter(pk=confirmation.pk).update(
        status=FollowUpStatus.SENDING, claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert followups.sweep_followups() == 1
    assert len(mail.outbox) == 1


# --- retries -----------------------------------------------------------------------------------


def test_a_transient_esp_error_retries_with_backoff_then_succeeds(
    customer, catalogue, email_backend, settings
):
    settings.GRACEFUL_CANCEL = gc_settings(FOLLOWUP_RETRY_BACKOFF_SECONDS=60)
    email_backend("tests.test_followups.FlakyESP")
    FlakyESP.failures, FlakyESP.sent = 2, []
    case = cancel(customer)
    confirmation = rows(case)["confirmation"]
    start = timezone.now()
    outcome = followups.send_followup(confirmation.pk)
    assert (outcome.status, outcome.retry_in) == (FollowUpStatus.SCHEDULED, 60)
    confirmation.refresh_from_db()
    assert confirmation.attempts == 1 and "ESP unavailable" in confirmation.last_error
    assert confirmation.due_at >= start + timedelta(seconds=60)
    assert followups.send_followup(confirmation.pk).status == FollowUpStatus.SCHEDULED  # not due
    make_due(confirmation)
    assert followups.send_followup(confirmation.pk).retry_in == 120  # doubled
    make_due(confirmation)
    assert followups.send_followup(confirmation.pk).status == FollowUpStatus.SENT
    confirmation.refresh_from_db()
    assert (confirmation.attempts, confirmation.last_error) == (3, "")
    assert len(FlakyESP.sent) == 1


def test_the_task_asks_celery_to_retry_after_the_backoff(customer, catalogue, email_backend):
    email_backend("tests.test_followups.FlakyESP")
    FlakyESP.failures, FlakyESP.sent = 1, []
    case = cancel(customer)
    confirmation = rows(case)["confirmation"]
    with (
        mock.patch.object(tasks.send_followup, "retry", side_effect=RuntimeError("retry")) as r,
        pytest.raises(RuntimeError),
    ):
        tasks.send_followup.run(confirmation.pk)
    assert r.call_args.kwargs == {"countdown": 60}


def test_failure_after_the_configured_attempts(customer, catalogue, email_backend, settings):
    settings.GRACEFUL_CANCEL = gc_settings(FOLLOWUP_MAX_ATTEMPTS=2)
    email_backend("tests.test_followups.FlakyESP")
    FlakyESP.failures, FlakyESP.sent = 5, []
    case = cancel(customer)
    confirmation = rows(case)["confirmation"]
    followups.send_followup(confirmation.pk)
    make_due(confirmation)
    assert followups.send_followup(confirmation.pk).status == FollowUpStatus.FAILED
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (FollowUpStatus.FAILED, 2)
    assert case.events.filter(kind=EventKind.MESSAGE_STATUS, data__status="failed").exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED  # a confirmed cancellation stays confirmed


def test_a_permanent_esp_error_fails_at_once(customer, catalogue, email_backend):
    email_backend("tests.test_followups.RejectingESP")
    case = cancel(customer)
    confirmation = rows(case)["confirmation"]
    assert followups.send_followup(confirmation.pk).status == FollowUpStatus.FAILED


# --- respect -----------------------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_nothing_after_opt_out(customer, catalogue):
    case = cancel(customer)
    assert services.opt_out(customer, source="link", case=case) is True
    assert services.opt_out(customer, source="link", case=case) is False  # once
    found = rows(case)
    assert {found[s].status for s in ("confirmation", "thank_you", "survey")} == {
        FollowUpStatus.CANCELLED
    }
    assert kinds(case).count(EventKind.OPTED_OUT) == 1
    # Anything already claimed by a worker is skipped when it would go.
    FollowUp.objects.filter(pk=found["survey"].pk).update(
        status=FollowUpStatus.SENDING, due_at=timezone.now()
    )
    assert followups.deliver(found["survey"].pk).status == FollowUpStatus.SKIPPED
    assert mail.outbox == []


@time_machine.travel(NOON, tick=False)
def test_a_channel_opt_out_keeps_the_other_channels(customer, catalogue):
    case = cancel(customer)
    services.opt_out(customer, channel="sms", source="link")
    assert followups.sweep_followups() == 1
    assert rows(case)["confirmation"].status == FollowUpStatus.SENT


@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_QUIET_HOURS=[21, 8]))
def test_quiet_hours_in_the_customers_time_zone(customer, catalogue):
    # 23:30 in Madrid (22:30 UTC): the thank-you waits until 08:00 Madrid; the receipt does not.
    night = datetime(2026, 3, 2, 22, 30, tzinfo=ZoneInfo("UTC"))
    with time_machine.travel(night, tick=False):
        case, _ = services.start_case(customer, time_zone="Europe/Madrid")
        services.record_reason(case, None, contact_consent=True)
        services.confirm_cancellation(case)
        thank_you = rows(case)["thank_you"]
        make_due(thank_you)
        assert followups.sweep_followups() == 2
        assert len(mail.outbox) == 1  # the confirmation
        thank_you.refresh_from_db()
        assert thank_you.status == FollowUpStatus.SCHEDULED
        assert thank_you.attempts == 0  # waiting is not an attempt
        assert thank_you.due_at == datetime(2026, 3, 3, 8, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    with time_machine.travel(datetime(2026, 3, 3, 7, 0, 1, tzinfo=ZoneInfo("UTC")), tick=False):
        assert followups.sweep_followups() == 1
        assert len(mail.outbox) == 2


@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_QUIET_HOURS=None))
def test_at_most_one_message_per_customer_per_day(customer, catalogue):
    case = cancel(customer)
    found = rows(case)
    make_due(found["thank_you"], found["survey"])
    assert followups.sweep_followups() == 3
    assert len(mail.outbox) == 2  # the confirmation (exempt) and one follow-up
    postponed = FollowUp.objects.get(
        case=case, stage__in=["thank_you", "survey"], status=FollowUpStatus.SCHEDULED
    )
    sent = FollowUp.objects.get(case=case, stage__in=["thank_you", "survey"], status="sent")
    assert postponed.due_at == sent.sent_at + timedelta(hours=24)


@time_machine.travel(NOON, tick=False)
def test_reactivation_stops_the_rest_of_the_sequence(customer, catalogue):
    case = cancel(customer)
    tasks.send_followup(rows(case)["confirmation"].pk)
    services.reactivate(case)
    found = rows(case)
    assert found["confirmation"].status == FollowUpStatus.SENT
    assert {found["thank_you"].status, found["survey"].status} == {FollowUpStatus.CANCELLED}
    FollowUp.objects.filter(case=case).update(due_at=timezone.now())
    assert followups.sweep_followups() == 0
    assert len(mail.outbox) == 1


def test_a_case_no_longer_cancelled_is_never_messaged(customer, catalogue):
    case = cancel(customer)
    CancellationCase.objects.filter(pk=case.pk).update(status=CaseStatus.REACTIVATED)
    assert followups.sweep_followups() == 1
    assert rows(case)["confirmation"].status == FollowUpStatus.CANCELLED
    assert mail.outbox == []


def test_an_erased_customer_gets_nothing(customer, catalogue):
    case = cancel(customer)
    CancellationCase.objects.filter(pk=case.pk).update(customer=None)
    followups.sweep_followups()
    assert rows(case)["confirmation"].status == FollowUpStatus.SKIPPED
    assert mail.outbox == []


# --- channels ----------------------------------------------------------------------------------


@override_settings(GRACEFUL_CANCEL=gc_settings(**NO_LIMITS))
def test_sms_on_the_console_channel(customer, catalogue):
    case = cancel(customer, "quality", preferred_channel="sms", contact_phone="+34600000001")
    thank_you = rows(case)["thank_you"]
    make_due(thank_you)
    out = io.StringIO()
    with mock.patch.object(ConsoleSMSChannel, "stream", out):
        assert tasks.send_followup(thank_you.pk) == FollowUpStatus.SENT
    assert "sms to +34600000001" in out.getvalue()
    assert "/l/reactivate/" in out.getvalue()
    thank_you.refresh_from_db()
    assert thank_you.provider_message_id.startswith("console-")
    assert thank_you.source.endswith("thank_you/default_sms.txt")


class FakeTwilio:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.created: list[dict[str, Any]] = []
        self.messages = self

    def create(self, **kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        self.created.append(kwargs)
        return mock.Mock(sid="SM123")


TWILIO = {
    "FOLLOWUP_CHANNELS": {
        "sms": "django_graceful_cancel.followups.channels.twilio.TwilioSMSChannel",
        "whatsapp": "django_graceful_cancel.followups.channels.twilio.TwilioWhatsAppChannel",
    },
    "TWILIO": {
        "ACCOUNT_SID": "AC1",
        "AUTH_TOKEN": "t",
        "FROM_NUMBER": "+15005550006",
        "WHATSAPP_FROM": "+14155238886",
    },
    **NO_LIMITS,
}


@override_settings(GRACEFUL_CANCEL=gc_settings(**TWILIO))
@pytest.mark.parametrize(("channel", "prefix"), [("sms", ""), ("whatsapp", "whatsapp:")])
def test_twilio_channels(channel, prefix, customer, catalogue):
    case = cancel(customer, "quality", preferred_channel=channel, contact_phone="+34600000002")
    thank_you = rows(case)["thank_you"]
    make_due(thank_you)
    fake = FakeTwilio()
    with mock.patch.object(TwilioSMSChannel, "client", return_value=fake):
        tasks.send_followup(thank_you.pk)
    [created] = fake.created
    assert created["to"] == f"{prefix}+34600000002"
    assert created["from_"].startswith(prefix) and created["body"]
    thank_you.refresh_from_db()
    assert (thank_you.status, thank_you.provider_message_id) == (FollowUpStatus.SENT, "SM123")


@override_settings(GRACEFUL_CANCEL=gc_settings(**TWILIO))
@pytest.mark.parametrize(("status", "transient"), [(503, True), (429, True), (400, False)])
def test_twilio_errors(status, transient, customer, catalogue):
    from twilio.base.exceptions import TwilioRestException

    case = cancel(customer, "quality", preferred_channel="sms", contact_phone="+34600000003")
    thank_you = rows(case)["thank_you"]
    fake = FakeTwilio(TwilioRestException(status, "https://api.twilio.com", "nope"))
    with (
        mock.patch.object(TwilioSMSChannel, "client", return_value=fake),
        pytest.raises(ChannelError) as info,
    ):
        TwilioSMSChannel().send(
            thank_you, mock.Mock(text="hi"), recipient="+346", links=mock.Mock()
        )
    assert info.value.transient is transient


@override_settings(GRACEFUL_CANCEL=gc_settings(**NO_LIMITS))
def test_the_phone_channel_creates_a_call_task_for_staff(customer, staff_user, catalogue):
    case = cancel(customer, "price", preferred_channel="phone", contact_phone="+34600000004")
    services.assign_owner(case, staff_user, actor=staff_user)
    survey = rows(case)["survey"]
    make_due(survey)
    tasks.send_followup(survey.pk)
    tasks.send_followup(survey.pk)
    task = CallTask.objects.get()
    assert (task.case, task.stage, task.phone, task.assigned_to) == (
        case,
        "survey",
        "+34600000004",
        staff_user,
    )
    assert "recommend" in task.script
    survey.refresh_from_db()
    assert survey.provider_message_id == f"call:{task.pk}"
    services.mark_call_done(case, outcome="Gave 8/10", actor=staff_user)
    task.refresh_from_db()
    survey.refresh_from_db()
    assert task.status == CallTaskStatus.DONE
    assert survey.status == FollowUpStatus.DELIVERED


@override_settings(GRACEFUL_CANCEL=gc_settings(**NO_LIMITS))
@pytest.mark.parametrize("moved", [False, True])
def test_a_done_call_reports_the_delivery_once_and_only_when_it_moved(
    moved, customer, staff_user, catalogue, django_capture_on_commit_callbacks
):
    case = cancel(customer, "price", preferred_channel="phone", contact_phone="+34600000005")
    survey = rows(case)["survey"]
    make_due(survey)
    tasks.send_followup(survey.pk)
    if not moved:  # e.g. already marked delivered by other means since the task was made
        FollowUp.objects.filter(pk=survey.pk).update(status=FollowUpStatus.DELIVERED)
    before = case.events.filter(kind=EventKind.MESSAGE_STATUS).count()
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.followup_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
            actions.complete_call(case, actor=staff_user, outcome="Gave 8/10")
    finally:
        signals.followup_status_changed.disconnect(receiver)
    logged = case.events.filter(kind=EventKind.MESSAGE_STATUS).count() - before
    if moved:
        assert logged == 1
        [call] = received
        assert (call["followup"].pk, call["case"], call["status"], call["event"]) == (
            survey.pk,
            case,
            FollowUpStatus.DELIVERED,
            None,
        )
        assert call["followup"].status == FollowUpStatus.DELIVERED
    else:
        assert (logged, received) == (0, [])


# --- signed links ------------------------------------------------------------------------------


def test_tokens_are_single_purpose_and_tamper_proof():
    token = links.make_token("survey", 7)
    assert links.read_token("survey", token) == {"case": 7, "channel": ""}
    with pytest.raises(links.InvalidLink):
        links.read_token("reactivate", token)
    with pytest.raises(links.InvalidLink):
        links.read_token("survey", token[:-2] + "xx")


def url(purpose: str, case: CancellationCase, channel: str = "") -> str:
    token = links.make_token(purpose, case.pk, channel=channel)
    return reverse(f"graceful_cancel:link_{purpose}", args=[token])


def test_links_make_absolute_urls_and_name_the_site(settings):
    # One place for the site's name and address in messages (rendering, declarations, the
    # gc_absolute filter of the confirmation).
    from django.template import Context, Template

    settings.GRACEFUL_CANCEL = gc_settings(SITE_URL="https://shop.test/", SITE_NAME="Shop")
    assert links.site_name() == "Shop"
    assert links.absolute("/a/") == "https://shop.test/a/"
    # Already absolute, or nothing at all: left as it is.
    assert links.absolute("https://elsewhere.test/b/") == "https://elsewhere.test/b/"
    assert links.absolute("") == ""
    rendered = Template(
        "{% load graceful_cancel_flow %}{{ a|gc_absolute }} {{ b|gc_absolute }}"
    ).render(Context({"a": "/a/", "b": "https://elsewhere.test/b/"}))
    assert rendered == "https://shop.test/a/ https://elsewhere.test/b/"
    settings.GRACEFUL_CANCEL = gc_settings(SITE_URL=None, SITE_NAME=None)
    assert links.site_name() == "our service"  # no SITE_NAME and no django.contrib.sites


def test_link_pages_extend_the_base_template(settings, client, customer, catalogue):
    case = cancel(customer)
    assert "site-header" in client.get(url("survey", case)).content.decode()  # testapp/base.html
    settings.GRACEFUL_CANCEL = gc_settings(BASE_TEMPLATE="django_graceful_cancel/standalone.html")
    html = client.get(url("survey", case)).content.decode()
    assert "site-header" not in html and 'class="gc-standalone"' in html


def test_a_tampered_link_gets_a_clear_page(client, customer, catalogue):
    case = cancel(customer)
    response = client.get(url("survey", case)[:-3] + "x/")
    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    wrong = reverse("graceful_cancel:link_reactivate", args=[links.make_token("survey", case.pk)])
    assert client.post(wrong).status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED


def test_an_expired_link_gets_a_clear_page(client, customer, catalogue):
    case = cancel(customer)
    link = url("unsubscribe", case)
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        response = client.post(link, {"scope": "all"})
    assert response.status_code == 410
    assert b"expired" in response.content
    assert not OptOut.objects.exists()


def test_unsubscribe_page_and_one_click(client, customer, catalogue):
    case = cancel(customer)
    link = url("unsubscribe", case, channel="email")
    assert client.get(link).status_code == 200
    assert not OptOut.objects.exists()  # a GET (a mail scanner) changes nothing
    # RFC 8058: the mailbox provider POSTs this body, without cookies or CSRF token.
    csrf_client = client.__class__(enforce_csrf_checks=True)
    response = csrf_client.post(link, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert list(OptOut.objects.values_list("channel", "source")) == [("email", "one-click")]
    assert rows(case)["thank_you"].status == FollowUpStatus.CANCELLED
    client.post(url("unsubscribe", case), {"scope": "all"})
    assert set(OptOut.objects.values_list("channel", flat=True)) == {"email", ""}


def test_survey_link_stores_score_and_comment(client, customer, catalogue):
    case = cancel(customer)
    link = url("survey", case)
    assert b'name="score"' in client.get(link).content
    assert client.post(link, {"score": "11"}).status_code == 400
    response = client.post(link, {"score": "8", "comment": " Good, but dear "})
    assert response.status_code == 200
    case.refresh_from_db()
    assert (case.survey_score, case.survey_comment) == (8, "Good, but dear")
    assert case.events.get(kind=EventKind.SURVEY_ANSWERED).data == {"score": 8}
    client.post(link, {"score": "1"})  # answered once; a second post changes nothing
    case.refresh_from_db()
    assert case.survey_score == 8


def test_reactivate_link(client, customer, catalogue):
    case = cancel(customer)
    link = url("reactivate", case)
    assert client.get(link).status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    response = client.post(link)
    assert b"Welcome back" in response.content
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    assert rows(case)["survey"].status == FollowUpStatus.CANCELLED


# --- the demo ----------------------------------------------------------------------------------


@override_settings(
    GRACEFUL_CANCEL=gc_settings(
        FOLLOWUP_SECONDS_PER_DAY=0.02, FOLLOWUP_DISPATCH="inline", FOLLOWUP_QUIET_HOURS=None
    )
)
def test_the_demo_plays_the_whole_sequence_in_seconds(
    customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = cancel(customer, "quality", contact_consent=True)
    assert len(mail.outbox) == 1  # the confirmation, at once
    call_command(
        "graceful_cancel_send_followups", "--watch", "--interval", "0.05", stdout=io.StringIO()
    )
    assert [m.metadata["stage"] for m in mail.outbox] == [
        "confirmation",
        "thank_you",
        "survey",
        "winback",
    ]
    assert {f.status for f in rows(case).values()} == {FollowUpStatus.SENT}


def test_an_unexpected_error_in_a_send_is_requeued_and_the_sweep_goes_on(
    make_customer, catalogue, settings
):
    settings.GRACEFUL_CANCEL = gc_settings(FOLLOWUP_DISPATCH="sweep")
    first = rows(cancel(make_customer()))["confirmation"]
    second = rows(cancel(make_customer()))["confirmation"]
    real_deliver = followups.deliver

    def flaky(pk: int, **kwargs: Any) -> Any:
        if pk == first.pk:
            raise RuntimeError("a bug in a channel")
        return real_deliver(pk, **kwargs)

    with mock.patch.object(followups, "deliver", side_effect=flaky):
        assert followups.sweep_followups() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == FollowUpStatus.SCHEDULED
    assert first.last_error == "unexpected error"
    assert first.due_at > timezone.now()
    assert second.status == FollowUpStatus.SENT


def test_a_stale_claim_taken_over_by_another_worker_is_sent_once(
    make_customer, catalogue, settings
):
    settings.GRACEFUL_CANCEL = gc_settings(FOLLOWUP_DISPATCH="sweep", **NO_LIMITS)
    row = rows(cancel(make_customer()))["confirmation"]
    mail.outbox.clear()
    first_claim = timezone.now()
    assert followups.claim_due(10, now=first_claim) == [row.pk]
    # Worker A stalls past the sending timeout; its claim is released and worker B takes the row.
    timeout = settings.GRACEFUL_CANCEL.get("FOLLOWUP_SENDING_TIMEOUT_MINUTES", 30)
    with time_machine.travel(first_claim + timedelta(minutes=timeout + 1), tick=False):
        assert followups.release_stale() == 1
        second_claim = timezone.now()
        assert followups.claim_due(10, now=second_claim) == [row.pk]
        # Worker A wakes up while B holds the row: A must leave it to B.
        assert followups.deliver(row.pk, claimed_at=first_claim).status == FollowUpStatus.SENDING
        assert mail.outbox == []
        assert followups.deliver(row.pk, claimed_at=second_claim).status == FollowUpStatus.SENT
    assert len(mail.outbox) == 1
    assert row.case.events.filter(kind="message_sent").count() == 1
