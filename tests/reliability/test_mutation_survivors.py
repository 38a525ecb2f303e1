"""Holes a hand mutation test found in the suite (issue 14), each closed by a test that fails on
the mutant.

Sixty-eight small, realistic bugs were planted one at a time in the services, the policy, the
sequences, the links and the API permissions; these survived the suite. Each test below names the
mutant it kills (planted by hand, run, restored: see the issue's note):

* quiet hours off by one: 21:00 sendable, or 08:00 still quiet (``followups/respect.py``);
* open call tasks surviving a reactivation (``followups/outbox.stop_sequence``);
* a second survey answer accepted by the service (``followups/actions.answer_survey``);
* a soft bounce opting the customer out as a hard bounce would (``actions.record_tracking_event``);
* staff scheduling the leaving sequence on a case that is not cancelled (``services/desk.py``);
* a replayed Stripe event recorded twice on a saved or abandoned case (``services/external.py``,
  through the signed webhook);
* decline, change the reason, offer asked for again: a second presentation (an
  ``IntegrityError``) instead of the first (``services/cases.present_offer``);
* scheduling follow-ups again: a second row per stage (an ``IntegrityError``) instead of only the
  missing ones (``followups/outbox.schedule_sequence``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from anymail.signals import AnymailTrackingEvent
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import (
    CallTaskStatus,
    CaseStatus,
    EventKind,
    FollowUpStatus,
    OfferOutcome,
)
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.followups import outbox, respect
from django_graceful_cancel.models import (
    CallTask,
    CancellationCase,
    FollowUp,
    OfferPresentation,
    OptOut,
)
from tests.support import gc_settings

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

NO_SPACING = {"FOLLOWUP_MIN_INTERVAL_HOURS": 0}


def cancelled(customer: Any, reason: str | None = "price", **contact: Any) -> CancellationCase:
    case, _ = services.start_case(customer, language="en")
    contact.setdefault("contact_consent", True)
    services.record_reason(case, reason, **contact)
    return services.confirm_cancellation(case)


def count(case: CancellationCase, kind: str) -> int:
    return case.events.filter(kind=kind).count()


# --- quiet hours -------------------------------------------------------------------------------

MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("hours", "local", "quiet"),
    [
        # [21, 8): 21:00 is the first quiet minute, 08:00 the first awake one.
        ([21, 8], (20, 59), False),
        ([21, 8], (21, 0), True),
        ([21, 8], (23, 30), True),
        ([21, 8], (7, 59), True),
        ([21, 8], (8, 0), False),
        # A window inside one day: [1, 6).
        ([1, 6], (0, 59), False),
        ([1, 6], (1, 0), True),
        ([1, 6], (5, 59), True),
        ([1, 6], (6, 0), False),
    ],
)
def test_quiet_hours_start_at_their_first_hour_and_end_at_their_last(
    hours, local, quiet, customer, catalogue, settings
):
    """Kills ``hour > start`` (21:00 sendable) and ``hour <= end`` (08:00 still quiet)."""
    settings.GRACEFUL_CANCEL = gc_settings(FOLLOWUP_QUIET_HOURS=hours, **NO_SPACING)
    case, _ = services.start_case(customer, time_zone="Europe/Madrid")
    now = datetime(2026, 3, 2, *local, tzinfo=MADRID)
    wake = respect.quiet_until(case, now)
    if not quiet:
        assert wake is None
        return
    assert wake is not None and wake.astimezone(MADRID).hour == hours[1]
    assert wake.astimezone(MADRID).minute == 0 and now < wake <= now + timedelta(hours=24)


def test_a_follow_up_due_at_the_first_quiet_hour_waits_for_the_morning(customer, catalogue):
    """The same boundary through the outbox: at 21:00 sharp the thank-you is not sent."""
    with override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_QUIET_HOURS=[21, 8], **NO_SPACING)):
        nine_pm = datetime(2026, 3, 2, 21, 0, tzinfo=MADRID)
        with time_machine.travel(nine_pm, tick=False):
            case, _ = services.start_case(customer, time_zone="Europe/Madrid")
            services.record_reason(case, None, contact_consent=True)
            services.confirm_cancellation(case)
            FollowUp.objects.filter(case=case, stage="thank_you").update(due_at=timezone.now())
            outbox.sweep_followups()
            thank_you = FollowUp.objects.get(case=case, stage="thank_you")
            assert thank_you.status == FollowUpStatus.SCHEDULED
            assert thank_you.due_at == datetime(2026, 3, 3, 8, 0, tzinfo=MADRID)
            assert [m.subject for m in mail.outbox if "thank" in m.subject.lower()] == []


# --- call tasks and reactivation ---------------------------------------------------------------


@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_QUIET_HOURS=None, **NO_SPACING))
def test_reactivation_cancels_the_open_call_tasks(customer, catalogue):
    """Kills ``stop_sequence`` leaving call tasks open: nobody calls a customer who came back."""
    case = cancelled(customer, preferred_channel="phone", contact_phone="+34600000004")
    survey = FollowUp.objects.get(case=case, stage="survey")
    FollowUp.objects.filter(pk=survey.pk).update(due_at=timezone.now())
    outbox.send_followup(survey.pk)
    task = CallTask.objects.get(case=case)
    assert task.status == CallTaskStatus.OPEN
    services.reactivate(case)
    task.refresh_from_db()
    assert task.status == CallTaskStatus.CANCELLED
    assert not CallTask.objects.filter(case=case, status=CallTaskStatus.OPEN).exists()


# --- survey ------------------------------------------------------------------------------------


def test_the_service_takes_one_survey_answer_only(customer, catalogue):
    """Kills dropping ``survey_already_answered``: a second answer would overwrite the first."""
    case = cancelled(customer)
    services.answer_survey(case, score=9, comment="Great while it lasted", actor="link")
    with pytest.raises(InvalidTransition) as refused:
        services.answer_survey(case, score=1, comment="Changed my mind", actor="link")
    assert refused.value.code == "survey_already_answered"
    case.refresh_from_db()
    assert (case.survey_score, case.survey_comment) == (9, "Great while it lasted")
    assert count(case, EventKind.SURVEY_ANSWERED) == 1


# --- bounces -----------------------------------------------------------------------------------


def bounce(followup: FollowUp, kind: str, event_id: str) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(
        event_type="bounced",
        event_id=event_id,
        message_id=followup.provider_message_id or "msg-1",
        metadata={"followup": str(followup.pk)},
        esp_event={"RecordType": "Bounce", "Type": kind, "ID": event_id},
        description=f"{kind} from the test",
    )


def test_a_soft_bounce_does_not_opt_the_customer_out(customer, catalogue):
    """Kills treating every bounce as hard: a full mailbox is not an address to stop using."""
    case = cancelled(customer)
    confirmation = FollowUp.objects.get(case=case, stage="confirmation")
    outbox.sweep_followups()
    confirmation.refresh_from_db()
    assert confirmation.status == FollowUpStatus.SENT
    services.record_tracking_event(bounce(confirmation, "SoftBounce", "soft-1"), esp_name="test")
    confirmation.refresh_from_db()
    assert confirmation.status == FollowUpStatus.SENT
    assert not OptOut.objects.filter(customer=customer).exists()
    assert FollowUp.objects.filter(case=case, status=FollowUpStatus.SCHEDULED).exists()
    # A hard bounce does stop the channel: the test tells the two apart.
    services.record_tracking_event(bounce(confirmation, "HardBounce", "hard-1"), esp_name="test")
    confirmation.refresh_from_db()
    assert confirmation.status == FollowUpStatus.BOUNCED
    assert OptOut.objects.filter(customer=customer, channel="email", source="bounce").exists()


# --- scheduling from the desk ------------------------------------------------------------------


def case_in(status: str, customer: Any, staff: Any) -> CancellationCase:
    case, _ = services.start_case(customer, language="en")
    services.record_reason(case, "price", contact_consent=True)
    if status == CaseStatus.SAVED:
        services.present_offer(case)
        return services.accept_offer(case)
    if status == CaseStatus.ABANDONED:
        return services.abandon(case)
    if status == CaseStatus.REACTIVATED:
        services.confirm_cancellation(case)
        return services.reactivate(case)
    return case


@pytest.mark.parametrize(
    "status",
    [CaseStatus.SAVED, CaseStatus.OPEN, CaseStatus.ABANDONED, CaseStatus.REACTIVATED],
)
def test_staff_cannot_schedule_the_leaving_sequence_on_a_case_that_is_not_cancelled(
    status, customer, staff_user, catalogue
):
    """Kills ``status == OPEN`` in place of ``status != CANCELLED``: a saved customer must not get
    a "sorry to see you go"."""
    case = case_in(status, customer, staff_user)
    assert case.status == status
    scheduled = FollowUp.objects.filter(case=case, status=FollowUpStatus.SCHEDULED).count()
    with pytest.raises(InvalidTransition) as refused:
        services.schedule_followups(case, actor=staff_user)
    assert refused.value.code == "case_not_cancelled"
    assert FollowUp.objects.filter(case=case, status=FollowUpStatus.SCHEDULED).count() == scheduled
    assert count(case, EventKind.FOLLOWUPS_SCHEDULED) == 0


def test_scheduling_again_adds_only_the_missing_stages(customer, staff_user, catalogue):
    """Kills scheduling every stage again: a second row per stage is an ``IntegrityError``
    (the admin action would answer 500)."""
    case = cancelled(customer)
    stages = set(FollowUp.objects.filter(case=case).values_list("stage", flat=True))
    assert {"confirmation", "thank_you", "survey", "winback"} <= stages
    assert services.schedule_followups(case, actor=staff_user) == 0
    FollowUp.objects.filter(case=case, stage="survey").delete()
    assert services.schedule_followups(case, actor=staff_user) == 1
    assert set(FollowUp.objects.filter(case=case).values_list("stage", flat=True)) == stages
    assert FollowUp.objects.filter(case=case).count() == len(stages)
    events = case.events.filter(kind=EventKind.FOLLOWUPS_SCHEDULED).order_by("pk")
    assert [event.data["stages"] for event in events] == [[], ["survey"]]


def test_the_admin_action_schedules_again_without_a_500(superuser_client, customer, catalogue):
    case = cancelled(customer)
    response = superuser_client.post(
        reverse("admin:graceful_cancel_cancellationcase_changelist"),
        {"action": "schedule_followups", "_selected_action": [case.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert FollowUp.objects.filter(case=case).values("stage").distinct().count() == (
        FollowUp.objects.filter(case=case).count()
    )


# --- one offer per case ------------------------------------------------------------------------


def test_decline_change_the_reason_and_ask_again_shows_the_same_offer(customer, catalogue):
    """Kills looking only for a *pending* presentation (or none) before choosing: the case would
    get a second presentation, an ``IntegrityError`` on its one-to-one row."""
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    first = services.present_offer(case)
    assert first is not None
    services.decline_offer(case)
    services.record_reason(case, "temporary")
    again = services.present_offer(case)
    assert again is not None and again.pk == first.pk
    assert again.outcome == OfferOutcome.DECLINED
    assert OfferPresentation.objects.filter(case=case).count() == 1
    assert count(case, EventKind.OFFER_PRESENTED) == 1


def test_the_api_answers_a_new_reason_after_a_declined_offer(client, customer, catalogue):
    client.force_login(customer)
    created = client.post(reverse("graceful_cancel_api:case-list"), {}, "application/json")
    reference = created.json()["reference"]
    reason_url = reverse("graceful_cancel_api:case-reason", args=[reference])
    first = client.post(reason_url, {"reason": "price"}, "application/json").json()["offer"]
    declined = client.post(
        reverse("graceful_cancel_api:case-decline-offer", args=[reference]), {}, "application/json"
    )
    assert declined.status_code == 200
    again = client.post(reason_url, {"reason": "temporary"}, "application/json")
    assert again.status_code == 200, again.content
    offer = again.json()["offer"]
    assert (offer["slug"], offer["outcome"]) == (first["slug"], OfferOutcome.DECLINED)


# --- replayed Stripe events --------------------------------------------------------------------

SECRET = "whsec_test_graceful_cancel"


def signed_post(client: Any, event: dict[str, Any]) -> Any:
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    signature = hmac.new(
        SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return client.post(
        reverse("graceful_cancel_stripe_webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}",
    )


@pytest.mark.parametrize("status", [CaseStatus.SAVED, CaseStatus.ABANDONED])
def test_a_replayed_stripe_event_is_recorded_once_on_a_saved_or_abandoned_case(
    status, client, customer, settings
):
    """Kills dropping the event-id check for cases that keep their status: Stripe delivers
    events at least once, and each replay would add an "external change" to the timeline."""
    settings.GRACEFUL_CANCEL = gc_settings(STRIPE_WEBHOOK_SECRET=SECRET)
    now = timezone.now()
    case = CancellationCase.objects.create(
        customer=customer,
        subscription_ref="sub_replayed",
        status=status,
        period_end=now + timedelta(days=20),
        closed_at=now,
        saved_at=now if status == CaseStatus.SAVED else None,
    )
    event = {
        "id": "evt_replayed_1",
        "type": "customer.subscription.deleted",
        "data": {"object": {"id": "sub_replayed", "object": "subscription", "status": "canceled"}},
    }
    for _ in range(3):
        assert signed_post(client, event).status_code == 200
    case.refresh_from_db()
    assert case.status == status
    changes = case.events.filter(kind=EventKind.EXTERNAL_CHANGE)
    assert changes.count() == 1
    assert changes.get().data["event_id"] == "evt_replayed_1"
    # Another event is another change.
    assert signed_post(client, {**event, "id": "evt_replayed_2"}).status_code == 200
    assert case.events.filter(kind=EventKind.EXTERNAL_CHANGE).count() == 2
