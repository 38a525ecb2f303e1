"""0.2's pause with a lifecycle (issue 17, part 3) at Ironworks Gym: a membership pause.

The gym's membership has no status and no pause column: an active flag, an expiry *date* and
auto-renewal on a related row. The model backend pauses it by moving the expiry date; the app
keeps the pause's life (``Pause``), reminds the member a week before it ends, and the reminder's
"resume now" link brings the expiry date back by the days not used, so the gym's own nightly job
charges that much sooner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings

from django_graceful_cancel.choices import CaseStatus, EventKind, PauseState
from django_graceful_cancel.models import FollowUp, Pause
from tests.hosts.gym.billing import nightly
from tests.hosts.gym.models import Membership
from tests.hosts.sites import case_of, prepare_catalogue, send_followups, serving

# Every test starts on a Monday at noon (conftest.py), the clock ticking.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("noon")]


@pytest.fixture(autouse=True)
def gym(catalogue: Any) -> Iterator[Any]:
    with serving("gym") as site:
        # Reminders at any hour: the clock jumps by days in these tests.
        config = {**site.graceful_cancel, "FOLLOWUP_QUIET_HOURS": None}
        with override_settings(GRACEFUL_CANCEL=config):
            prepare_catalogue(site)
            yield site


def expires(user: Any) -> Any:
    return Membership.objects.get(member=user).expires


def links_in(body: str) -> dict[str, str]:
    found = re.findall(r"https://ironworks\.example(/\S*)", body)
    return {
        "resume": next((u for u in found if "/pause/resume/" in u), ""),
        "extend": next((u for u in found if "/pause/extend/" in u), ""),
        "cancel": next((u for u in found if u.rstrip("/") == "/me/leave"), ""),
    }


@pytest.fixture
def paused(gym: Any, walk: Any) -> Any:
    """Lena (Anytime, expires in 20 days) says her need is temporary and takes the pause."""
    user = gym.make_customer("lena")
    lena = walk(user, "gym")
    lena.expires_before = expires(user)
    assert "Pause for 2 months" in lena.give_reason("temporary", consent=False)
    lena.accept_offer()
    assert lena.step == "saved"
    return lena


def test_the_pause_is_a_record_with_its_end_and_its_reminder(paused, noon):
    user = paused.user
    pause = Pause.objects.get(customer=user)
    assert pause.state == PauseState.PAUSED and pause.via == "backend"
    assert abs(pause.ends_at - (noon + timedelta(days=60))) < timedelta(minutes=1)
    # The gym's expiry date moved by the pause; renewal stays on; the member is still a member.
    membership = Membership.objects.select_related("renewal").get(member=user)
    assert membership.expires == paused.expires_before + timedelta(days=60)
    assert (membership.is_active, membership.renewal.auto_renew) == (True, True)
    reminder = FollowUp.objects.get(pk=pause.reminder_id)
    assert reminder.due_at == pause.ends_at - timedelta(days=7)
    assert case_of(user).status == CaseStatus.SAVED
    # The saved page says when it resumes, with the time zone named.
    assert "(UTC)" in paused.page and 'data-host="gym"' in paused.page


def test_reminder_a_week_before_then_resume_early(paused, time_machine):
    user = paused.user
    pause = Pause.objects.get(customer=user)
    assert send_followups() == []  # not before its day

    time_machine.shift(timedelta(days=53, hours=1))
    (reminder,) = send_followups()  # no consent to follow-ups: this one is about money
    assert reminder.to == ["lena@example.com"]
    assert "Your pause ends soon" in reminder.body and "(UTC)" in reminder.body
    found = links_in(reminder.body)
    assert all(found.values()), found

    page = paused.get(found["resume"])
    assert 'data-host="gym"' in page and "gym/gym.css" in page and "34.00" in page
    pause.refresh_from_db()
    assert pause.state == PauseState.PAUSED  # the GET changes nothing (mail scanners)

    done = paused.client.post(found["resume"])
    assert done.status_code == 200 and b"running again" in done.content
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_EARLY and pause.ended_at is not None
    # The days not used (6 of 60) come off the gym's expiry date: the next charge comes sooner.
    assert expires(user) == paused.expires_before + timedelta(days=54)
    case = case_of(user)
    event = case.events.get(kind=EventKind.PAUSE_RESUMED)
    assert event.data["early"] is True
    # A second click changes nothing.
    paused.client.post(found["resume"])
    assert case.events.filter(kind=EventKind.PAUSE_RESUMED).count() == 1

    # The gym's nightly job charges on the new date, not 6 days later.
    assert nightly(paused.expires_before + timedelta(days=53)) == []  # the day before
    time_machine.shift(timedelta(days=21))
    assert [m.member_id for m in nightly()] == [user.pk]


def test_the_reminders_cancel_link_is_the_gyms_flow(paused, time_machine):
    time_machine.shift(timedelta(days=53, hours=1))
    (reminder,) = send_followups()
    paused.client.force_login(paused.user)  # her session from two months ago has expired
    start = paused.get(links_in(reminder.body)["cancel"])
    assert paused.step == "start" and 'data-host="gym"' in start
