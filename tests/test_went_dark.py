"""Customers who cancelled and went dark (issue 17, part 4): a desk task for the high-value case,
none for a low-value or business-closing one, none when the customer answered anything; what was
tried is listed, a channel not tried is named; staff record the outcome and the root cause."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import (
    CaseStatus,
    EventKind,
    ReachOutOutcome,
    ReachOutStatus,
)
from django_graceful_cancel.exceptions import InvalidInput, InvalidTransition
from django_graceful_cancel.followups.outbox import sweep_followups
from django_graceful_cancel.models import CancellationCase, CaseEvent, OptOut, ReachOutTask
from tests.support import gc_settings

pytestmark = pytest.mark.django_db

PHONE = "+34600123456"


@pytest.fixture(autouse=True)
def _settings() -> Any:
    settings = gc_settings(
        FOLLOWUP_DISPATCH="sweep",
        FOLLOWUP_QUIET_HOURS=None,
        FOLLOWUP_MIN_INTERVAL_HOURS=0,
        WENT_DARK_AFTER_DAYS=14,
        WENT_DARK_MIN_PRIORITY=40,
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        yield


def cancelled(
    make_customer: Any,
    *,
    plan: str = "premium",
    reason: str = "price",
    days_ago: int = 20,
    consent: bool = True,
    phone: str = PHONE,
) -> CancellationCase:
    """A case cancelled ``days_ago`` days ago, its confirmation email sent."""
    customer = make_customer(plan=plan, tenure_days=400)
    case, _ = services.start_case(customer, language="en")
    services.record_reason(
        case,
        reason,
        detail="Too expensive for what I use",
        contact_consent=consent,
        contact_phone=phone if consent else "",
    )
    services.present_offer(case)
    services.confirm_cancellation(case, actor=customer)
    sweep_followups()  # the confirmation, by email
    then = timezone.now() - timedelta(days=days_ago)
    CancellationCase.objects.filter(pk=case.pk).update(cancelled_at=then)
    case.refresh_from_db()
    return case


def test_a_high_value_case_that_went_dark_becomes_one_task(make_customer, catalogue):
    case = cancelled(make_customer)
    assert case.priority >= 40  # 19.99 a month, more than a year, a price reason
    assert services.scan_went_dark() == 1
    task = ReachOutTask.objects.get(case=case)
    assert task.status == ReachOutStatus.OPEN
    # What was tried: the confirmation by email, and the discount the customer declined.
    assert task.tried["channels"] == ["email"]
    assert [m["stage"] for m in task.tried["messages"]] == ["confirmation"]
    assert task.tried["offers"] == [
        {"offer": "discount-30-3m", "title": "30% off for the next 3 months", "outcome": "declined"}
    ]
    # A channel not tried yet, the most personal first: they gave a number, so a call.
    assert task.channel == "phone"
    event = case.events.get(kind=EventKind.REACH_OUT_CREATED)
    assert event.data == {"task": task.pk, "channel": "phone", "tried": ["email"]}
    # Idempotent: the next scan makes nothing new.
    assert services.scan_went_dark() == 0
    assert ReachOutTask.objects.filter(case=case).count() == 1
    assert case.events.filter(kind=EventKind.REACH_OUT_CREATED).count() == 1


def test_without_a_phone_number_email_was_tried_and_nothing_else_is_named(make_customer, catalogue):
    case = cancelled(make_customer, phone="")
    services.scan_went_dark()
    assert ReachOutTask.objects.get(case=case).channel == ""  # a person writes, by hand


def test_no_task_for_a_low_value_case(make_customer, catalogue):
    case = cancelled(make_customer, plan="basic", reason="temporary")
    assert case.priority < 40
    assert services.scan_went_dark() == 0
    assert not ReachOutTask.objects.exists()


def test_no_task_for_a_business_that_is_closing(make_customer, catalogue, settings):
    case = cancelled(make_customer, reason="business-closed")
    # Even when the site's own rule scores it high, the reason says saving is wrong.
    CancellationCase.objects.filter(pk=case.pk).update(priority=500)
    assert services.scan_went_dark() == 0
    assert not ReachOutTask.objects.exists()


def test_no_task_when_the_root_cause_found_is_a_closing_business(make_customer, catalogue):
    case = cancelled(make_customer)
    services.set_root_cause(case, "business-closed", actor="staff")
    assert services.scan_went_dark() == 0


def test_no_task_for_a_site_rule_that_scores_outsiders_zero(make_customer, catalogue):
    cancelled(make_customer)
    settings = gc_settings(
        FOLLOWUP_DISPATCH="sweep", PRIORITY_RULE="tests.test_went_dark.outside_profile"
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        CancellationCase.objects.update(priority=0)  # what the site's rule gave them
        assert services.scan_went_dark() == 0


def outside_profile(case: Any) -> int:
    return 0


def test_no_task_before_the_days_have_passed(make_customer, catalogue):
    cancelled(make_customer, days_ago=5)
    assert services.scan_went_dark() == 0


def test_no_task_when_the_scan_is_off(make_customer, catalogue):
    cancelled(make_customer)
    with override_settings(GRACEFUL_CANCEL=gc_settings(WENT_DARK_AFTER_DAYS=None)):
        assert services.scan_went_dark() == 0


def test_no_task_without_consent_to_be_contacted(make_customer, catalogue):
    cancelled(make_customer, consent=False)
    assert services.scan_went_dark() == 0


def test_no_task_after_an_opt_out_of_everything(make_customer, catalogue):
    case = cancelled(make_customer)
    OptOut.objects.create(customer=case.customer, channel="", source="link")
    assert services.scan_went_dark() == 0


def test_no_task_when_the_customer_answered_the_survey(make_customer, catalogue):
    case = cancelled(make_customer)
    services.answer_survey(case, score=6, comment="fine", actor="customer (link)")
    assert services.scan_went_dark() == 0


def test_no_task_when_the_customer_clicked(make_customer, catalogue):
    case = cancelled(make_customer)
    CaseEvent.objects.create(
        case=case, kind=EventKind.MESSAGE_STATUS, data={"event": "clicked", "status": "opened"}
    )
    assert services.scan_went_dark() == 0


def test_an_open_alone_is_not_an_answer(make_customer, catalogue):
    case = cancelled(make_customer)
    CaseEvent.objects.create(
        case=case, kind=EventKind.MESSAGE_STATUS, data={"event": "opened", "status": "opened"}
    )
    assert services.scan_went_dark() == 1


def test_no_task_when_staff_reached_them_by_phone(make_customer, catalogue):
    case = cancelled(make_customer)
    CaseEvent.objects.create(case=case, kind=EventKind.CALL_DONE, actor_label="staff:sam")
    assert services.scan_went_dark() == 0


def test_the_scan_works_in_bounded_batches_most_valuable_first(make_customer, catalogue):
    cases = [cancelled(make_customer) for _ in range(3)]
    CancellationCase.objects.filter(pk=cases[2].pk).update(priority=999)
    assert services.scan_went_dark(batch_size=1, max_batches=1) == 1
    assert ReachOutTask.objects.get().case_id == cases[2].pk
    assert services.scan_went_dark(batch_size=1, max_batches=5) == 2


def test_the_command(make_customer, catalogue, capsys):
    cancelled(make_customer)
    call_command("graceful_cancel_went_dark")
    assert "1 task(s)" in capsys.readouterr().out


# --- staff close it ----------------------------------------------------------------------------


def test_staff_record_the_outcome_and_the_root_cause(make_customer, catalogue, staff_user):
    case = cancelled(make_customer)
    services.scan_went_dark()
    task = ReachOutTask.objects.get(case=case)
    services.complete_reach_out(
        task,
        outcome=ReachOutOutcome.REACHED,
        note="Called; the invoice layout confused them, not the price.",
        root_cause="poor-communication",
        root_cause_detail="Invoices unclear",
        actor=staff_user,
    )
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.status == ReachOutStatus.DONE and task.done_by == staff_user
    assert task.outcome == "reached" and "invoice layout" in task.note
    assert case.root_cause.slug == "poor-communication"
    assert case.root_cause_detail == "Invoices unclear"
    assert case.reason.slug == "price"  # the stated reason stays, next to it
    done = case.events.get(kind=EventKind.REACH_OUT_DONE)
    assert done.data["outcome"] == "reached" and done.actor_label == "staff:sam"
    assert case.events.filter(kind=EventKind.ROOT_CAUSE_SET).exists()
    with pytest.raises(InvalidTransition) as again:
        services.complete_reach_out(task, outcome="no_answer", actor=staff_user)
    assert again.value.code == "reach_out_already_done"


def test_an_unknown_outcome_is_a_field_error(make_customer, catalogue, staff_user):
    case = cancelled(make_customer)
    services.scan_went_dark()
    task = ReachOutTask.objects.get(case=case)
    with pytest.raises(InvalidInput) as refused:
        services.complete_reach_out(task, outcome="maybe", actor=staff_user)
    assert "outcome" in refused.value.errors
    task.refresh_from_db()
    assert task.status == ReachOutStatus.OPEN


def test_the_desk_page_lists_what_was_tried_and_closes_the_task(
    make_customer, catalogue, superuser_client
):
    case = cancelled(make_customer)
    services.scan_went_dark()
    task = ReachOutTask.objects.get(case=case)
    url = reverse("admin:graceful_cancel_reachouttask_change", args=[task.pk])
    page = superuser_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "confirmation · email · sent" in html
    assert "30% off for the next 3 months · declined" in html
    listing = superuser_client.get(reverse("admin:graceful_cancel_reachouttask_changelist"))
    assert case.reference in listing.content.decode()
    reason = case.reason.__class__.objects.get(slug="customer-service")
    response = superuser_client.post(
        url,
        {
            "note": "Left a voicemail, then they called back.",
            "done_outcome": "came_back",
            "root_cause": reason.pk,
            "root_cause_detail": "Support never answered",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.status == ReachOutStatus.DONE and task.outcome == "came_back"
    assert case.root_cause == reason
    assert case.status == CaseStatus.CANCELLED  # the desk records; the customer decides


def test_erasure_clears_what_staff_wrote_on_the_task(make_customer, catalogue, staff_user):
    case = cancelled(make_customer)
    services.scan_went_dark()
    task = ReachOutTask.objects.get(case=case)
    services.complete_reach_out(
        task, outcome="reached", note="Ana said her father died", actor=staff_user
    )
    services.erase_customer(case.customer, actor=staff_user)
    task.refresh_from_db()
    assert task.note == "" and task.tried == {}
    assert task.outcome == "reached"  # the anonymous figure stays
