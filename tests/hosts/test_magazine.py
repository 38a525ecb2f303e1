"""The Weekly Reader (a Stripe-shaped one-to-one subscription): the whole flow through its pages.

Each test serves the magazine (its URLconf and its GRACEFUL_CANCEL block, ``sites.serving``),
walks the pages as a reader and asserts what changed in the magazine's own ``Subscription`` row
and in the mail.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.models import CancellationCase, FulfilmentTask
from tests.hosts.magazine.billing import roll_over
from tests.hosts.magazine.models import Subscription
from tests.hosts.sites import (
    case_of,
    prepare_catalogue,
    send_followups,
    sent_stages,
    serving,
    shows_date,
)

# Every test starts on a Monday at noon (conftest.py), the clock ticking.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("noon")]


@pytest.fixture(autouse=True)
def magazine(catalogue: Any) -> Any:
    with serving("magazine") as site:
        prepare_catalogue(site)
        yield site


@pytest.fixture
def make_reader(magazine: Any) -> Any:
    return magazine.make_customer  # Print + Digital, 20 days left in the period


@pytest.fixture
def reader(make_reader: Any) -> Any:
    return make_reader("rosa")


def row(user: Any) -> Subscription:
    return Subscription.objects.select_related("plan").get(customer=user)


def test_the_flow_opens_from_the_account_page_inside_the_magazines_layout(reader, walk):
    rosa = walk(reader, "magazine")
    assert "Renews on" in rosa.account()
    page = rosa.open_flow()
    assert 'data-host="magazine"' in page and "masthead" in page
    assert "magazine/site.css" in page and "django_graceful_cancel/flow.css" in page
    assert "Print + Digital · 12.99 USD" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.strip().endswith("· The Weekly Reader")


def test_a_pause_accepted_moves_the_period_end_and_pauses_collection(reader, walk, noon):
    before = row(reader)
    rosa = walk(reader, "magazine")
    offer = rosa.give_reason("temporary")
    assert "Pause for 2 months" in offer
    saved = rosa.accept_offer()
    assert rosa.step == "saved"

    after = row(reader)
    assert after.current_period_end == before.current_period_end + timedelta(days=60)
    assert after.pause_resumes_at is not None
    assert after.pause_resumes_at.date() == (noon + timedelta(days=60)).date()
    assert (after.status, after.cancel_at_period_end, after.canceled_at) == ("active", False, None)
    assert after.plan == before.plan
    assert case_of(reader).status == CaseStatus.SAVED
    assert shows_date(saved, timezone.localdate(after.pause_resumes_at))
    assert mail.outbox == []


def test_a_downgrade_accepted_switches_the_plan_and_what_the_reader_pays(reader, walk):
    rosa = walk(reader, "magazine")
    offer = rosa.give_reason("competitor")
    assert "Switch to Digital only" in offer
    saved = rosa.accept_offer()

    after = row(reader)
    assert after.plan.lookup_key == "digital"
    assert (after.status, after.cancel_at_period_end) == ("active", False)
    assert "You are now on the Digital plan" in saved
    assert "Digital" in rosa.account()
    # What the magazine charges at the next renewal: the Digital plan's price.
    assert after.plan.unit_amount == Decimal("4.99")


def test_a_discount_is_promised_as_what_it_is_a_task_for_the_magazines_staff(reader, walk, noon):
    """The model backend cannot discount a Stripe-shaped row; the magazine routes discounts to
    its staff (OFFER_FULFILMENT), so the reader is told who applies it and by when."""
    before = row(reader)
    rosa = walk(reader, "magazine")
    offer = rosa.give_reason("price")
    assert "30% off for the next 3 months" in offer
    assert "business day" in offer
    saved = rosa.accept_offer()
    assert "business day" in saved

    case = case_of(reader)
    (task,) = FulfilmentTask.objects.filter(case=case)
    assert task.offer.kind == "discount" and task.done_at is None
    assert timezone.localtime(task.due_at).date() == (noon + timedelta(days=2)).date()  # Wed
    after = row(reader)
    assert (after.plan, after.current_period_end, after.cancel_at_period_end) == (
        before.plan,
        before.current_period_end,
        False,
    )
    assert case.status == CaseStatus.SAVED


def test_an_offer_declined_cancels_at_the_period_end_and_keeps_access(reader, walk):
    before = row(reader)
    rosa = walk(reader, "magazine")
    offer = rosa.give_reason("competitor")
    rosa.decline_offer()
    assert rosa.step == "done"

    after = row(reader)
    # Stripe's shape: the status stays "active" until the period ends; the renewal is off.
    assert (after.status, after.cancel_at_period_end) == ("active", True)
    assert after.canceled_at is not None
    assert after.current_period_end == before.current_period_end
    assert after.plan == before.plan and after.ended_at is None
    case = case_of(reader)
    assert case.status == CaseStatus.CANCELLED and case.effective_at == before.current_period_end
    assert "Ends on" in rosa.account()
    (confirmation,) = mail.outbox
    assert confirmation.to == ["rosa@example.com"]
    assert case.reference in confirmation.subject and case.reference in confirmation.body
    assert "The Weekly Reader" in confirmation.body
    assert "https://reader.example/account/cancel/" in confirmation.body
    assert "Switch to Digital only" in offer  # the offer that was declined


def test_at_the_period_end_the_cancelled_reader_is_not_invoiced_and_the_others_are(
    reader, make_reader, walk
):
    stays = make_reader("sam")
    rosa = walk(reader, "magazine")
    rosa.give_reason("competitor")
    rosa.decline_offer()
    end = row(reader).current_period_end

    invoiced = roll_over(now=end + timedelta(minutes=1))
    assert [s.customer for s in invoiced] == [stays]
    assert (row(reader).status, row(reader).ended_at) == ("canceled", end)
    assert row(stays).status == "active"


def test_cancelling_again_shows_the_receipt_not_a_second_cancellation(reader, walk):
    rosa = walk(reader, "magazine")
    rosa.give_reason("competitor")
    rosa.decline_offer()
    rosa.open_flow()
    assert rosa.step == "done"  # the receipt
    assert len(mail.outbox) == 1
    assert CancellationCase.objects.filter(customer=reader).count() == 1


def test_reactivating_from_the_confirmation_renews_again(reader, walk):
    rosa = walk(reader, "magazine")
    rosa.give_reason("competitor")
    rosa.decline_offer()
    rosa.reactivate()
    assert rosa.step == "reactivate" and case_of(rosa.user).status == "reactivated"

    after = row(reader)
    assert (after.status, after.cancel_at_period_end, after.canceled_at) == ("active", False, None)
    assert case_of(reader).status == CaseStatus.REACTIVATED
    assert "Renews on" in rosa.account()


def test_a_trialing_reader_who_comes_back_is_still_trialing(make_reader, walk):
    """Cancelling at the period end never touched the status, so coming back must not either."""
    user = make_reader("tomas", status="trialing", days_left=10)
    tomas = walk(user, "magazine")
    tomas.give_reason("competitor")
    tomas.decline_offer()
    assert (row(user).status, row(user).cancel_at_period_end) == ("trialing", True)
    tomas.reactivate()
    assert (row(user).status, row(user).cancel_at_period_end) == ("trialing", False)


def test_the_follow_ups_are_sent_by_the_command(reader, walk, time_machine):
    rosa = walk(reader, "magazine")
    rosa.give_reason("competitor")  # with the consent box ticked
    rosa.decline_offer()
    assert sent_stages(reader) == ["confirmation"]
    assert send_followups() == []  # nothing else is due yet

    time_machine.shift(timedelta(days=3))
    (thank_you,) = send_followups()
    assert sent_stages(reader) == ["confirmation", "thank_you"]
    assert thank_you.to == ["rosa@example.com"]
    assert "The Weekly Reader" in thank_you.subject + thank_you.body
    assert shows_date(thank_you.body, timezone.localdate(row(reader).current_period_end))
    assert "https://reader.example/account/cancel/l/reactivate/" in thank_you.body

    time_machine.shift(timedelta(days=4))
    (survey,) = send_followups()
    assert sent_stages(reader)[-1] == "survey"
    assert "https://reader.example/account/cancel/l/survey/" in survey.body

    time_machine.shift(timedelta(days=23))
    (winback,) = send_followups()
    assert sent_stages(reader)[-1] == "winback" and winback.to == ["rosa@example.com"]
    assert send_followups() == []
    # The period has ended: the magazine's row still says what the customer chose.
    assert row(reader).cancel_at_period_end is True


def test_the_thank_yous_reactivate_link_renews_the_subscription_again(
    reader, walk, client, time_machine
):
    rosa = walk(reader, "magazine")
    rosa.give_reason("competitor")
    rosa.decline_offer()
    time_machine.shift(timedelta(days=3))
    (thank_you,) = send_followups()
    link = re.search(r"https://reader\.example(/account/cancel/l/reactivate/\S+)", thank_you.body)
    assert link, thank_you.body

    page = client.get(link.group(1))  # no login needed: the link is signed
    assert page.status_code == 200
    assert row(reader).cancel_at_period_end is True  # a GET changes nothing
    client.post(link.group(1))
    after = row(reader)
    assert (after.cancel_at_period_end, after.canceled_at, after.status) == (False, None, "active")
    assert case_of(reader).status == CaseStatus.REACTIVATED
