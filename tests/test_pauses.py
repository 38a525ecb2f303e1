"""A pause with a life (issue 17, part 3): accepted, reminded, resumed early, extended within the
limits, resumed on schedule, cancelled during the pause; the yearly limit; Stripe's native pause
and ``pause_collection`` against recorded SDK requests; Stripe's paused/resumed webhooks."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from django_graceful_cancel import services, signals
from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend
from django_graceful_cancel.backends.stripe.webhooks import handle_event
from django_graceful_cancel.choices import (
    CaseStatus,
    EventKind,
    FollowUpStatus,
    OfferOutcome,
    PauseState,
)
from django_graceful_cancel.exceptions import InvalidInput, InvalidTransition, OfferNotApplicable
from django_graceful_cancel.followups.channels.console import ConsoleSMSChannel
from django_graceful_cancel.followups.outbox import send_followup
from django_graceful_cancel.models import (
    CancellationCase,
    FollowUp,
    OfferPresentation,
    OptOut,
    Pause,
    RetentionOffer,
)
from django_graceful_cancel.services import pauses
from tests.support import gc_settings
from tests.support.stripe import RecordingHTTPClient, stripe_settings, subscription_body

pytestmark = pytest.mark.django_db

#: Reminders may go at any hour and right after another message in these tests.
ANY_TIME = {"FOLLOWUP_QUIET_HOURS": None, "FOLLOWUP_MIN_INTERVAL_HOURS": 0}


@pytest.fixture(autouse=True)
def _settings() -> Any:
    with override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_DISPATCH="sweep", **ANY_TIME)):
        yield


def paused(customer: Any, *, channel: str = "email") -> tuple[CancellationCase, Pause]:
    """The customer states "temporary", is shown the 2-month pause and accepts it."""
    case, _ = services.start_case(customer, language="en", time_zone="Europe/Madrid")
    services.record_reason(case, "temporary", preferred_channel=channel)
    presentation = services.present_offer(case)
    assert presentation is not None and presentation.offer.slug == "pause-2m"
    case = services.accept_offer(case, actor=customer)
    return case, Pause.objects.get(case=case)


def period_end(customer: Any) -> Any:
    return customer.subscriptions.get().current_period_end


def links_in(text: str) -> dict[str, str]:
    found = re.findall(r"https?://\S+", text)
    return {
        "resume": next((u for u in found if "/pause/resume/" in u), ""),
        "extend": next((u for u in found if "/pause/extend/" in u), ""),
        "cancel": next((u for u in found if u.rstrip("/").endswith("/account/cancel")), ""),
    }


def path_of(url: str) -> str:
    return url.replace("http://testserver", "")


def send_reminder(pause: Pause) -> FollowUp:
    """Bring the reminder's moment forward to now and send it through the outbox."""
    row = FollowUp.objects.get(pk=pause.reminder_id)
    FollowUp.objects.filter(pk=row.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    send_followup(row.pk)
    row.refresh_from_db()
    return row


# --- accepted ----------------------------------------------------------------------------------


def test_an_accepted_pause_is_a_record_with_its_reminder(customer, catalogue):
    before = period_end(customer)
    started: list[dict[str, Any]] = []
    signals.pause_started.connect(lambda **kw: started.append(kw), weak=False, dispatch_uid="t1")
    try:
        case, pause = paused(customer)
    finally:
        signals.pause_started.disconnect(dispatch_uid="t1")
    assert case.status == CaseStatus.SAVED
    assert pause.state == PauseState.PAUSED and pause.customer == customer
    assert pause.subscription_ref == case.subscription_ref
    # 2 months = 60 days from now, and the billing date moved by as much (the model backend).
    assert abs((pause.ends_at - (timezone.now() + timedelta(days=60))).total_seconds()) < 60
    assert period_end(customer) - before == timedelta(days=60)
    assert customer.subscriptions.get().paused_until == pause.ends_at
    reminder = FollowUp.objects.get(pk=pause.reminder_id)
    assert reminder.template == "pause_reminder" and reminder.status == FollowUpStatus.SCHEDULED
    assert reminder.due_at == pause.ends_at - timedelta(days=7)  # PAUSE_REMINDER_DAYS
    assert reminder.channel == "email"
    assert case.events.filter(kind=EventKind.PAUSE_STARTED, data__pause=pause.pk).exists()
    assert started == []  # the signal waits for the commit, which a test case never does


def test_the_reminder_waits_for_its_day(customer, catalogue):
    _case, pause = paused(customer)
    outcome = send_followup(pause.reminder_id)
    assert outcome.status == FollowUpStatus.SCHEDULED
    assert mail.outbox == []


def test_the_reminder_days_are_a_setting(customer, catalogue):
    with override_settings(GRACEFUL_CANCEL=gc_settings(PAUSE_REMINDER_DAYS=3, **ANY_TIME)):
        _case, pause = paused(customer)
    reminder = FollowUp.objects.get(pk=pause.reminder_id)
    assert reminder.due_at == pause.ends_at - timedelta(days=3)


# --- the reminder and its links ----------------------------------------------------------------


def test_reminder_then_resume_early(client, customer, catalogue):
    case, pause = paused(customer)
    paused_end = period_end(customer)
    row = send_reminder(pause)
    assert row.status == FollowUpStatus.SENT
    (message,) = mail.outbox
    assert message.to == [customer.email]
    # The subject names no date (the body does, with its zone).
    assert message.subject == "Your Standard subscription resumes soon"
    body = message.body
    assert "Your pause ends soon" in body
    # The date names its time zone (the customer's: Madrid).
    assert re.search(r"\((CET|CEST)\)", body)
    links = links_in(body)
    assert all(links.values()), links
    # The resume page says what happens and changes nothing on GET (mail scanners follow links).
    page = client.get(path_of(links["resume"]))
    assert page.status_code == 200
    assert b"Resume now" in page.content and b"12.99" in page.content
    pause.refresh_from_db()
    assert pause.state == PauseState.PAUSED
    done = client.post(path_of(links["resume"]))
    assert done.status_code == 200 and b"running again" in done.content
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_EARLY and pause.ended_at is not None
    # The days not used come off the billing date: the next charge comes sooner.
    unused = pause.ends_at - pause.ended_at
    assert abs((paused_end - period_end(customer) - unused).total_seconds()) < 5
    assert customer.subscriptions.get().paused_until is None
    event = case.events.get(kind=EventKind.PAUSE_RESUMED)
    assert event.data["early"] is True and event.actor_label == "customer (link)"
    # A second click changes nothing and says so.
    again = client.post(path_of(links["resume"]))
    assert again.status_code == 200
    assert case.events.filter(kind=EventKind.PAUSE_RESUMED).count() == 1


def test_the_cancel_link_is_the_normal_flow(client, customer, catalogue):
    _case, pause = paused(customer)
    send_reminder(pause)
    cancel = links_in(mail.outbox[0].body)["cancel"]
    assert path_of(cancel) == reverse("graceful_cancel:start")
    client.force_login(customer)
    assert client.get(path_of(cancel)).status_code == 200


def test_a_resume_link_cannot_extend_and_a_forged_one_fails(client, customer, catalogue):
    _case, pause = paused(customer)
    resume_token = pauses.make_token(pauses.RESUME, pause)
    response = client.get(reverse("graceful_cancel:pause_extend", args=[resume_token]))
    assert response.status_code == 400
    response = client.post(reverse("graceful_cancel:pause_resume", args=[resume_token + "x"]))
    assert response.status_code == 400
    pause.refresh_from_db()
    assert pause.state == PauseState.PAUSED


def test_an_expired_link_says_so(client, customer, catalogue):
    _case, pause = paused(customer)
    token = pauses.make_token(pauses.RESUME, pause)
    later = timezone.now() + timedelta(days=61)
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        response = client.get(reverse("graceful_cancel:pause_resume", args=[token]))
    assert response.status_code == 410


def test_the_reminder_respects_an_opt_out(customer, catalogue):
    _case, pause = paused(customer)
    OptOut.objects.create(customer=customer, channel="", source="link")
    assert send_reminder(pause).status == FollowUpStatus.SKIPPED
    assert mail.outbox == []


def test_no_reminder_once_the_pause_is_over(customer, catalogue):
    _case, pause = paused(customer)
    services.resume_pause(pause, actor=customer)
    row = FollowUp.objects.get(pk=pause.reminder_id)
    assert row.status == FollowUpStatus.CANCELLED  # dropped at once
    FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.SCHEDULED)
    assert send_reminder(pause).status == FollowUpStatus.CANCELLED  # and refused if it survived
    assert mail.outbox == []


def test_the_reminder_goes_by_sms_on_the_customers_channel(customer, catalogue):
    case, _ = services.start_case(customer, language="en")
    services.record_reason(
        case,
        "temporary",
        preferred_channel="sms",
        contact_consent=True,
        contact_phone="+34600123456",
    )
    services.present_offer(case)
    services.accept_offer(case, actor=customer)
    pause = Pause.objects.get(case=case)
    row = FollowUp.objects.get(pk=pause.reminder_id)
    assert row.channel == "sms"
    stream = io.StringIO()
    with mock.patch.object(ConsoleSMSChannel, "stream", stream):
        assert send_reminder(pause).status == FollowUpStatus.SENT
    printed = stream.getvalue()
    assert "--- sms to +34600123456" in printed
    assert "/pause/resume/" in printed and "/account/cancel/" in printed


# --- extend ------------------------------------------------------------------------------------


def test_extend_within_the_limit(client, customer, catalogue):
    case, pause = paused(customer)
    end_before, old_reminder = period_end(customer), pause.reminder_id
    send_reminder(pause)
    extend = links_in(mail.outbox[0].body)["extend"]
    page = client.get(path_of(extend))
    assert page.status_code == 200
    # 60 days used of PAUSE_MAX_DAYS = 90: 7, 14 and 30 days are offered.
    assert list(page.context["choices"]) == [7, 14, 30]
    response = client.post(path_of(extend), {"days": "14"})
    assert response.status_code == 200 and b"now resumes on" in response.content
    pause.refresh_from_db()
    assert pause.extended_days == 14 and pause.state == PauseState.PAUSED
    assert period_end(customer) - end_before == timedelta(days=14)
    assert customer.subscriptions.get().paused_until == pause.ends_at
    # A new reminder before the new end; the old one was sent already and stays so.
    assert pause.reminder_id != old_reminder
    new = FollowUp.objects.get(pk=pause.reminder_id)
    assert new.due_at == pause.ends_at - timedelta(days=7) and new.status == "scheduled"
    event = case.events.get(kind=EventKind.PAUSE_EXTENDED)
    assert event.data["days"] == 14


def test_extend_beyond_the_limit_is_refused_with_a_field_error(client, customer, catalogue):
    _case, pause = paused(customer)
    services.extend_pause(pause, days=30, actor=customer)  # 90 days: the limit itself
    with pytest.raises(InvalidInput) as refused:
        services.extend_pause(pause, days=7, actor=customer)
    assert refused.value.errors["days"][0].code == "pause_too_long"
    assert "90" in str(refused.value.errors["days"][0].message)
    pause.refresh_from_db()
    assert pause.extended_days == 30
    # The page offers nothing more, and a crafted POST gets the field's message, not a 500.
    token = pauses.make_token(pauses.EXTEND, pause)
    page = client.get(reverse("graceful_cancel:pause_extend", args=[token]))
    assert page.context["choices"] == [] and b"cannot be extended" in page.content
    response = client.post(reverse("graceful_cancel:pause_extend", args=[token]), {"days": "7"})
    assert response.status_code == 400
    assert b"at most 90 days" in response.content
    # The reminder's extend link is left out once no extension is left.
    assert pauses.reminder_links(pause).extend_url == ""


@pytest.mark.parametrize("days", ["", "abc", "-3", "0"])
def test_extend_needs_a_positive_number_of_days(customer, catalogue, days):
    _case, pause = paused(customer)
    with pytest.raises(InvalidInput) as refused:
        services.extend_pause(pause, days=days, actor=customer)
    assert refused.value.errors["days"][0].code == "invalid_days"


def test_a_pause_over_cannot_be_extended_or_resumed(customer, catalogue):
    _case, pause = paused(customer)
    services.resume_pause(pause, actor=customer)
    with pytest.raises(InvalidTransition):
        services.extend_pause(pause, days=7, actor=customer)
    with pytest.raises(InvalidTransition):
        services.resume_pause(pause, actor=customer)


# --- the yearly limit --------------------------------------------------------------------------


def earlier_pause(customer: Any, *, days_ago: int) -> None:
    """A pause this customer took ``days_ago`` days ago (on an earlier, saved case)."""
    other = CancellationCase.objects.create(
        customer=customer, subscription_ref=f"old:{days_ago}", status=CaseStatus.SAVED
    )
    start = timezone.now() - timedelta(days=days_ago)
    Pause.objects.create(
        case=other,
        customer=customer,
        subscription_ref=other.subscription_ref,
        starts_at=start,
        ends_at=start + timedelta(days=30),
        state=PauseState.RESUMED_ON_SCHEDULE,
    )


def test_pause_limit_reached_no_pause_is_offered(customer, catalogue):
    earlier_pause(customer, days_ago=100)
    earlier_pause(customer, days_ago=200)  # PAUSE_MAX_PER_YEAR = 2
    case, _ = services.start_case(customer, language="en")
    services.record_reason(case, "temporary")
    assert services.present_offer(case) is None


def test_a_pause_older_than_a_year_does_not_count(customer, catalogue):
    earlier_pause(customer, days_ago=100)
    earlier_pause(customer, days_ago=400)
    case, _ = services.start_case(customer, language="en")
    services.record_reason(case, "temporary")
    presentation = services.present_offer(case)
    assert presentation is not None and presentation.offer.kind == "pause"


def test_the_limit_check_is_one_query(customer, django_assert_num_queries):
    earlier_pause(customer, days_ago=10)
    with django_assert_num_queries(1):
        assert pauses.pause_limit_reached(customer.pk) is False
    earlier_pause(customer, days_ago=20)
    with django_assert_num_queries(1):
        assert pauses.pause_limit_reached(customer.pk) is True


def test_a_pause_longer_than_the_limit_is_never_offered(customer, catalogue):
    with override_settings(GRACEFUL_CANCEL=gc_settings(PAUSE_MAX_DAYS=45)):
        case, _ = services.start_case(customer, language="en")
        services.record_reason(case, "temporary")
        assert services.present_offer(case) is None  # the only pause offer lasts 60 days


def test_pause_limit_reached_after_the_offer_was_shown_is_refused(customer, catalogue):
    case, _ = services.start_case(customer, language="en")
    services.record_reason(case, "temporary")
    assert services.present_offer(case) is not None
    earlier_pause(customer, days_ago=5)
    earlier_pause(customer, days_ago=6)  # taken meanwhile, elsewhere
    before = period_end(customer)
    with pytest.raises(OfferNotApplicable) as refused:
        services.accept_offer(case, actor=customer)
    assert refused.value.code == "pause_limit_reached"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and period_end(customer) == before
    assert OfferPresentation.objects.get(case=case).outcome == OfferOutcome.PRESENTED


def test_pause_limit_reached_is_refused_by_the_api(customer, catalogue):
    case, _ = services.start_case(customer, language="en")
    services.record_reason(case, "temporary")
    services.present_offer(case)
    earlier_pause(customer, days_ago=5)
    earlier_pause(customer, days_ago=6)
    api = APIClient()
    api.force_authenticate(customer)
    response = api.post(
        reverse("graceful_cancel_api:case-accept-offer", args=[case.reference]), format="json"
    )
    assert response.status_code == 502
    assert response.json()["code"] == "offer_not_applicable"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


# --- on schedule, and cancelled during the pause -----------------------------------------------


def test_the_sweep_resumes_on_schedule_once(customer, catalogue):
    case, pause = paused(customer)
    assert services.sweep_pauses() == 0  # not due yet
    Pause.objects.filter(pk=pause.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    end_before = period_end(customer)
    assert services.sweep_pauses() == 1
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_ON_SCHEDULE
    assert customer.subscriptions.get().paused_until is None
    assert period_end(customer) == end_before  # the pause already counted in it
    assert case.events.get(kind=EventKind.PAUSE_RESUMED).data["early"] is False
    assert services.sweep_pauses() == 0
    assert case.events.filter(kind=EventKind.PAUSE_RESUMED).count() == 1


def test_the_command_sweeps_the_pauses(customer, catalogue, capsys):
    _case, pause = paused(customer)
    Pause.objects.filter(pk=pause.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    call_command("graceful_cancel_pauses")
    assert "1 pause(s) resumed on schedule." in capsys.readouterr().out
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_ON_SCHEDULE


def test_cancelled_during_the_pause(customer, catalogue, django_capture_on_commit_callbacks):
    saved, pause = paused(customer)
    with django_capture_on_commit_callbacks(execute=True):
        case, created = services.start_case(customer, language="en")
        assert created and case.subscription_ref == saved.subscription_ref
        services.confirm_cancellation(case, actor=customer)
    pause.refresh_from_db()
    assert pause.state == PauseState.CANCELLED
    assert FollowUp.objects.get(pk=pause.reminder_id).status == FollowUpStatus.CANCELLED
    event = saved.events.get(kind=EventKind.PAUSE_CANCELLED)
    assert event.data["cancelled_case"] == case.reference
    # Cancelling at the period end keeps what was paid for: the pause's end moved it.
    case.refresh_from_db()
    assert case.effective_at == period_end(customer)


# --- Stripe: recorded requests -----------------------------------------------------------------


@pytest.fixture
def recorder(monkeypatch: Any) -> Any:
    client = RecordingHTTPClient(
        routes={
            "GET /v1/subscriptions/sub_rec": subscription_body(),
            "POST /v1/subscriptions/sub_rec": subscription_body(),
            "POST /v1/subscriptions/sub_rec/pause": subscription_body(status="paused"),
            "POST /v1/subscriptions/sub_rec/resume": subscription_body(),
        }
    )
    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", client)
    return client


def stripe_case(customer: Any) -> CancellationCase:
    return CancellationCase.objects.create(
        customer=customer, subscription_ref="sub_rec", status=CaseStatus.OPEN, plan="Standard"
    )


def stripe_pause(case: CancellationCase, via: str) -> Pause:
    return Pause.objects.create(
        case=case,
        customer=case.customer,
        subscription_ref=case.subscription_ref,
        ends_at=timezone.now() + timedelta(days=30),
        via=via,
    )


@pytest.mark.parametrize("mode", ["native", "pause_collection"])
def test_recorded_pause_by_mode(recorder, customer, catalogue, mode):
    offer = RetentionOffer.objects.get(slug="pause-2m")
    settings = stripe_settings("http://127.0.0.1:9", STRIPE_PAUSE_MODE=mode)
    with override_settings(GRACEFUL_CANCEL=settings):
        applied = StripeSubscriptionBackend().apply_offer(
            "sub_rec", offer, case=stripe_case(customer)
        )
    assert applied["pause_mode"] == mode and applied["paused_until"]
    if mode == "native":
        (request,) = recorder.requests
        assert f"{request.method} {request.path}" == "POST /v1/subscriptions/sub_rec/pause"
        assert request.form == {"type": "subscription"}
    else:
        (request,) = recorder.requests
        assert request.path == "/v1/subscriptions/sub_rec"
        assert request.form["pause_collection[behavior]"] == "void"
        assert "pause_collection[resumes_at]" in request.form


def test_recorded_native_resume_and_finish(recorder, customer):
    case = stripe_case(customer)
    pause = stripe_pause(case, "native")
    settings = stripe_settings(
        "http://127.0.0.1:9", STRIPE_RESUME_PAYMENT_BEHAVIOR="resume_on_payment_success"
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        backend = StripeSubscriptionBackend()
        assert backend.resume_pause("sub_rec", case=case, pause=pause) == {"status": "active"}
        backend.finish_pause("sub_rec", case=case, pause=pause)
        ends = pause.ends_at + timedelta(days=7)
        assert backend.extend_pause("sub_rec", case=case, pause=pause, ends_at=ends)
    assert recorder.calls() == [
        "POST /v1/subscriptions/sub_rec/resume",
        "POST /v1/subscriptions/sub_rec/resume",
    ]  # extending a native pause changes nothing at Stripe: the sweep resumes it later
    assert recorder.requests[0].form == {
        "billing_cycle_anchor[type]": "now",
        "payment_behavior": "resume_on_payment_success",
    }


def test_recorded_pause_collection_resume_extend_and_finish(recorder, customer):
    case = stripe_case(customer)
    pause = stripe_pause(case, "pause_collection")
    with override_settings(GRACEFUL_CANCEL=stripe_settings("http://127.0.0.1:9")):
        backend = StripeSubscriptionBackend()
        ends = pause.ends_at + timedelta(days=14)
        backend.extend_pause("sub_rec", case=case, pause=pause, ends_at=ends)
        backend.resume_pause("sub_rec", case=case, pause=pause)
        assert backend.finish_pause("sub_rec", case=case, pause=pause) == {}
    extend, resume = recorder.requests
    assert extend.form["pause_collection[resumes_at]"] == str(int(ends.timestamp()))
    assert extend.form["pause_collection[behavior]"] == "void"
    assert resume.form["pause_collection"] == ""  # unset: invoices are collected again
    assert resume.form["metadata[graceful_cancel_case]"] == case.reference


def test_a_lost_native_resume_answer_is_success_when_it_runs(recorder, customer):
    recorder.routes["POST /v1/subscriptions/sub_rec/resume"] = lambda r: (
        400,
        {"error": {"type": "invalid_request_error", "message": "not paused"}},
    )
    case = stripe_case(customer)
    with override_settings(GRACEFUL_CANCEL=stripe_settings("http://127.0.0.1:9")):
        done = StripeSubscriptionBackend().resume_pause(
            "sub_rec", case=case, pause=stripe_pause(case, "native")
        )
    assert done == {"status": "active"}


def test_auto_mode_follows_the_pinned_api_version(monkeypatch):
    settings = stripe_settings("http://127.0.0.1:9", STRIPE_PAUSE_MODE="auto")
    with override_settings(GRACEFUL_CANCEL=settings):
        monkeypatch.setattr("stripe.api_version", "2026-10-28.endive")
        assert StripeSubscriptionBackend().pause_mode() == "native"
        monkeypatch.setattr("stripe.api_version", "2025-03-31.basil")
        assert StripeSubscriptionBackend().pause_mode() == "pause_collection"


def test_a_natively_paused_subscription_can_still_be_cancelled(recorder):
    recorder.routes["GET /v1/subscriptions/sub_rec"] = subscription_body(status="paused")
    with override_settings(GRACEFUL_CANCEL=stripe_settings("http://127.0.0.1:9")):
        info = StripeSubscriptionBackend().get_subscription("sub_rec")
    assert info is not None and info.is_active


def test_system_check_rejects_an_unknown_pause_mode():
    from django_graceful_cancel.conf import check_options

    with override_settings(
        GRACEFUL_CANCEL=stripe_settings("http://127.0.0.1:9", STRIPE_PAUSE_MODE="sometimes")
    ):
        errors = check_options(StripeSubscriptionBackend)
    assert [e.id for e in errors] == ["graceful_cancel.E003"]


# --- Stripe: the webhook -----------------------------------------------------------------------


def sub_event(kind: str, ref: str, event_id: str, **fields: Any) -> dict[str, Any]:
    previous = fields.pop("previous", {})
    return {
        "id": event_id,
        "type": kind,
        "data": {
            "object": {"id": ref, "object": "subscription", "status": "active", **fields},
            "previous_attributes": previous,
        },
    }


def test_webhook_resumed_ends_the_pause_once(customer, catalogue):
    case, pause = paused(customer)
    handled = handle_event(sub_event("customer.subscription.resumed", pause.subscription_ref, "e1"))
    assert handled == case
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_EARLY  # 60 days before its date
    # A redelivery (or the echo of our own resume) finds no pause running and changes nothing.
    again = handle_event(sub_event("customer.subscription.resumed", pause.subscription_ref, "e1"))
    assert again is None
    assert case.events.filter(kind=EventKind.PAUSE_RESUMED).count() == 1
    assert case.events.get(kind=EventKind.PAUSE_RESUMED).data["source"] == "stripe"


def test_webhook_resumed_near_the_end_is_on_schedule(customer, catalogue):
    _case, pause = paused(customer)
    Pause.objects.filter(pk=pause.pk).update(ends_at=timezone.now() + timedelta(hours=2))
    handle_event(sub_event("customer.subscription.resumed", pause.subscription_ref, "e2"))
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_ON_SCHEDULE


def test_webhook_paused_is_only_logged(customer, catalogue):
    case, pause = paused(customer)
    assert (
        handle_event(sub_event("customer.subscription.paused", pause.subscription_ref, "e3"))
        is None
    )
    pause.refresh_from_db()
    assert pause.state == PauseState.PAUSED
    assert not case.events.filter(kind=EventKind.EXTERNAL_CHANGE).exists()


def test_webhook_pause_collection_removed_resumes(customer, catalogue):
    _case, pause = paused(customer)
    event = sub_event(
        "customer.subscription.updated",
        pause.subscription_ref,
        "e4",
        pause_collection=None,
        previous={"pause_collection": {"behavior": "void", "resumes_at": 1}},
    )
    handle_event(event)
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_EARLY


def test_webhook_deleted_during_a_pause_cancels_it(customer, catalogue):
    case, pause = paused(customer)
    handle_event(
        sub_event("customer.subscription.deleted", pause.subscription_ref, "e5", status="canceled")
    )
    pause.refresh_from_db()
    assert pause.state == PauseState.CANCELLED
    assert case.events.get(kind=EventKind.PAUSE_CANCELLED).data["event_id"] == "e5"


def test_signed_resumed_webhook_through_the_view(client, customer, catalogue):
    import hashlib
    import hmac
    import time

    _case, pause = paused(customer)
    secret = "whsec_pause"
    payload = json.dumps(
        sub_event("customer.subscription.resumed", pause.subscription_ref, "e6")
    ).encode()
    stamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    with override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_WEBHOOK_SECRET=secret)):
        response = client.post(
            reverse("graceful_cancel_stripe_webhook"),
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=f"t={stamp},v1={digest.hexdigest()}",
        )
    assert response.status_code == 200
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_EARLY


def test_the_reminder_waits_out_the_quiet_hours(customer, catalogue):
    _case, pause = paused(customer)
    hour = timezone.localtime(timezone.now(), ZoneInfo("Europe/Madrid")).hour
    quiet = [hour, (hour + 2) % 24]  # the customer's night, now
    with override_settings(
        GRACEFUL_CANCEL=gc_settings(FOLLOWUP_QUIET_HOURS=quiet, FOLLOWUP_MIN_INTERVAL_HOURS=0)
    ):
        row = send_reminder(pause)
    assert row.status == FollowUpStatus.SCHEDULED and row.due_at > timezone.now()
    assert mail.outbox == []


def test_the_reminder_in_the_customers_language(customer, catalogue):
    case, _ = services.start_case(customer, language="es", time_zone="Europe/Madrid")
    services.record_reason(case, "temporary")
    services.present_offer(case)
    services.accept_offer(case, actor=customer)
    send_reminder(Pause.objects.get(case=case))
    (message,) = mail.outbox
    assert message.subject == "Tu suscripción Standard se reanuda pronto"
    assert "Tu pausa termina pronto" in message.body
    assert "¿Necesitas algo más de tiempo? Amplía tu pausa:" in message.body


def test_pause_events_reach_outbound_webhooks(customer, catalogue):
    from django_graceful_cancel.models import OutboundDelivery, WebhookEndpoint

    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/gc",
        event_types=["pause.started", "pause.extended", "pause.resumed"],
    )
    _case, pause = paused(customer)
    services.extend_pause(pause, days=7, actor=customer)
    services.resume_pause(pause, actor=customer)
    rows = list(OutboundDelivery.objects.order_by("pk").values_list("event_type", "payload"))
    assert [name for name, _payload in rows] == ["pause.started", "pause.extended", "pause.resumed"]
    assert rows[1][1]["data"]["event"]["days"] == 7
    assert rows[2][1]["data"]["event"]["early"] is True


def test_a_backend_without_the_lifecycle_offers_only_cancel(client, customer, catalogue):
    from django_graceful_cancel.backends.model import ModelSubscriptionBackend

    _case, pause = paused(customer)
    token = pauses.make_token(pauses.RESUME, pause)
    with mock.patch.object(ModelSubscriptionBackend, "capabilities") as capabilities:
        capabilities.return_value.pause_lifecycle = False
        links = pauses.reminder_links(pause)
        # An old or crafted link gets a clear refusal, not a 500, and nothing changes.
        response = client.post(reverse("graceful_cancel:pause_resume", args=[token]))
    assert (links.resume_url, links.extend_url) == ("", "")
    assert links.cancel_url.endswith("/account/cancel/")
    assert response.status_code == 409 and b"contact us" in response.content
    pause.refresh_from_db()
    assert pause.state == PauseState.PAUSED


def test_a_native_stripe_pause_from_offer_to_resume_on_schedule(recorder, customer, catalogue):
    recorder.routes["GET /v1/subscriptions"] = {
        "object": "list",
        "data": [subscription_body()],
        "has_more": False,
        "url": "/v1/subscriptions",
    }
    customer.last_name = "cus_rec"  # STRIPE_CUSTOMER_LOOKUP in the suite's Stripe settings
    customer.save()
    settings = stripe_settings("http://127.0.0.1:9", STRIPE_PAUSE_MODE="native", **ANY_TIME)
    with override_settings(GRACEFUL_CANCEL=settings):
        case, pause = paused(customer)
        assert pause.via == "native" and pause.subscription_ref == "sub_rec"
        assert "POST /v1/subscriptions/sub_rec/pause" in recorder.calls()
        Pause.objects.filter(pk=pause.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
        assert services.sweep_pauses() == 1
    assert recorder.calls("POST")[-1] == "POST /v1/subscriptions/sub_rec/resume"
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_ON_SCHEDULE
    assert case.events.get(kind=EventKind.PAUSE_RESUMED).data["applied"] == {"status": "active"}


def test_a_refused_native_resume_is_tried_again_next_sweep(recorder, customer):
    recorder.routes["POST /v1/subscriptions/sub_rec/resume"] = lambda r: (
        500,
        {"error": {"type": "api_error", "message": "down"}},
    )
    recorder.routes["GET /v1/subscriptions/sub_rec"] = subscription_body(status="paused")
    case = stripe_case(customer)
    pause = stripe_pause(case, "native")
    Pause.objects.filter(pk=pause.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    with override_settings(GRACEFUL_CANCEL=stripe_settings("http://127.0.0.1:9")):
        assert services.sweep_pauses() == 0
    pause.refresh_from_db()
    assert pause.state == PauseState.PAUSED  # still running: the next sweep resumes it
    assert not case.events.filter(kind=EventKind.PAUSE_RESUMED).exists()
