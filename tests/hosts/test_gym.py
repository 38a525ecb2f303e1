"""Ironworks Gym (an active flag + an expiry date, auto-renewal on a related model): the whole
flow through its pages.

Each test serves the gym (its URLconf and its GRACEFUL_CANCEL block, ``sites.serving``), walks
the pages as a member and asserts what changed in the gym's own ``Membership`` and
``RenewalSetting`` rows, what the gym's own nightly renewal job then does, and the mail.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.models import CancellationCase, FulfilmentTask
from tests.hosts.gym.billing import nightly
from tests.hosts.gym.models import Membership
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
def gym(catalogue: Any) -> Any:
    with serving("gym") as site:
        prepare_catalogue(site)
        yield site


@pytest.fixture
def make_member(gym: Any) -> Any:
    return gym.make_customer  # Anytime, expires in 20 days, renews automatically


@pytest.fixture
def member(make_member: Any) -> Any:
    return make_member("lena")


def row(user: Any) -> Membership:
    return Membership.objects.select_related("renewal").get(member=user)


def test_the_flow_opens_from_the_membership_page_inside_the_gyms_layout(member, walk):
    lena = walk(member, "gym")
    assert "renews automatically" in lena.account()
    page = lena.open_flow()
    assert 'data-host="gym"' in page and "IRONWORKS" in page
    assert "gym/gym.css" in page and "django_graceful_cancel/flow.css" in page
    assert "34.00 EUR" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.strip().endswith("· Ironworks Gym")


def test_the_level_is_shown_by_its_label_not_its_stored_value(member, walk):
    """The level is a plain value with choices: the customer reads "Anytime", not "anytime"."""
    page = walk(member, "gym").open_flow()
    assert "Anytime · 34.00 EUR" in page


def test_a_pause_accepted_moves_the_expiry_date_and_keeps_renewal(member, walk):
    before = row(member)
    lena = walk(member, "gym")
    assert "Pause for 2 months" in lena.give_reason("temporary")
    lena.accept_offer()
    assert lena.step == "saved"

    after = row(member)
    assert after.expires == before.expires + timedelta(days=60)
    assert (after.is_active, after.renewal.auto_renew, after.level) == (True, True, "anytime")
    assert case_of(member).status == CaseStatus.SAVED
    assert mail.outbox == []


def test_a_downgrade_accepted_changes_the_level_and_so_the_fee(member, walk):
    lena = walk(member, "gym")
    assert "Switch to Off-peak" in lena.give_reason("competitor")
    lena.accept_offer()

    after = row(member)
    assert after.level == "off-peak" and after.fee == Decimal("19.00")
    assert (after.is_active, after.renewal.auto_renew) == (True, True)
    assert "Off-peak" in lena.account()


def test_no_discount_is_offered_where_nobody_would_apply_one(member, walk):
    """The gym switched the discount offer off: a price concern gets the message, no offer."""
    lena = walk(member, "gym")
    page = lena.give_reason("price")
    assert 'id="gc-accept"' not in page and "30% off" not in page
    lena.confirm()
    assert lena.step == "done"
    assert row(member).renewal.auto_renew is False


def test_a_trainers_call_is_a_task_for_the_gyms_staff_due_the_next_business_day(member, walk, noon):
    lena = walk(member, "gym")
    assert "A free call with a product specialist" in lena.give_reason("missing-features")
    assert "business day" in lena.accept_offer()

    (task,) = FulfilmentTask.objects.filter(case=case_of(member))
    assert task.offer.kind == "consultation" and task.done_at is None
    assert timezone.localtime(task.due_at).date() == (noon + timedelta(days=1)).date()  # Tue
    assert (row(member).is_active, row(member).renewal.auto_renew) == (True, True)


def test_an_offer_declined_keeps_access_until_the_expiry_date_and_stops_renewal(member, walk):
    before = row(member)
    lena = walk(member, "gym")
    lena.give_reason("competitor")
    lena.decline_offer()
    assert lena.step == "done"

    after = row(member)
    # Paid until the expiry date: still a member until then, and nothing renews.
    assert after.is_active is True
    assert after.expires == before.expires
    assert after.renewal.auto_renew is False
    assert after.level == "anytime"
    case = case_of(member)
    assert case.status == CaseStatus.CANCELLED
    assert timezone.localdate(case.effective_at) == before.expires
    assert "does not renew" in lena.account()
    (confirmation,) = mail.outbox
    assert confirmation.to == ["lena@example.com"]
    assert case.reference in confirmation.subject
    assert "Ironworks Gym" in confirmation.body
    assert "https://ironworks.example/me/leave/" in confirmation.body


def test_the_gyms_renewal_job_does_not_charge_the_member_who_cancelled(member, make_member, walk):
    stays = make_member("omar")
    lena = walk(member, "gym")
    lena.give_reason("competitor")
    lena.decline_offer()
    expires = row(member).expires

    charged = nightly(today=expires)
    assert [m.member for m in charged] == [stays]
    assert (row(member).expires, row(member).is_active) == (expires, True)  # the last paid day
    nightly(today=expires + timedelta(days=1))
    assert row(member).is_active is False
    assert row(stays).is_active is True


def test_reactivating_from_the_confirmation_turns_renewal_back_on(member, walk):
    lena = walk(member, "gym")
    lena.give_reason("competitor")
    lena.decline_offer()
    lena.reactivate()
    assert lena.step == "reactivate"

    after = row(member)
    assert (after.is_active, after.renewal.auto_renew) == (True, True)
    assert case_of(member).status == CaseStatus.REACTIVATED
    assert "renews automatically" in lena.account()
    assert [m.member for m in nightly(today=after.expires)] == [member]


def test_the_follow_ups_are_sent_by_the_command(member, walk, time_machine):
    lena = walk(member, "gym")
    lena.give_reason("competitor")  # with the consent box ticked
    lena.decline_offer()
    expires = row(member).expires
    assert sent_stages(member) == ["confirmation"] and send_followups() == []

    time_machine.shift(timedelta(days=3))
    (thank_you,) = send_followups()
    assert sent_stages(member) == ["confirmation", "thank_you"]
    assert thank_you.to == ["lena@example.com"]
    assert "Ironworks Gym" in thank_you.subject + thank_you.body
    assert shows_date(thank_you.body, expires)
    assert "https://ironworks.example/me/leave/l/reactivate/" in thank_you.body

    time_machine.shift(timedelta(days=4))
    (survey,) = send_followups()
    assert sent_stages(member)[-1] == "survey"
    assert "https://ironworks.example/me/leave/l/survey/" in survey.body

    time_machine.shift(timedelta(days=23))
    (winback,) = send_followups()
    assert sent_stages(member)[-1] == "winback" and winback.to == ["lena@example.com"]
    assert send_followups() == []


def test_after_the_expiry_date_there_is_nothing_left_to_cancel(member, walk, time_machine):
    lena = walk(member, "gym")
    lena.give_reason("competitor")
    lena.decline_offer()
    time_machine.shift(timedelta(days=21))
    # The app never ended the membership itself: the gym's job does that, on its own schedule.
    assert row(member).is_active is True
    later = walk(member, "gym")  # signed in again: the session has expired
    later.open_flow()
    assert later.step == "done"  # the receipt of the cancellation, nothing more to cancel
    assert CancellationCase.objects.filter(customer=member).count() == 1
