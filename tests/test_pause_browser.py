"""The pause reminder's "resume now" and "extend" pages as the customer sees them, in Debian's
Chromium through Playwright: the link from the reminder email, the date with its zone, one
button, the result; desktop and phone, no sideways scrolling.

Screenshots go to /tmp/shots/pause/ (GC_SHOTS overrides the directory).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import PauseState
from django_graceful_cancel.followups.outbox import send_followup
from django_graceful_cancel.models import FollowUp, Pause
from tests.support import browser, gc_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def shots() -> Path:
    path = Path(os.environ.get("GC_SHOTS", "/tmp/shots/pause"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def reminder_links(live_server: Any, make_customer: Any) -> tuple[Pause, dict[str, str]]:
    customer = make_customer("paula")
    case, _ = services.start_case(customer, language="en", time_zone="Europe/Madrid")
    services.record_reason(case, "temporary")
    services.present_offer(case)
    services.accept_offer(case, actor=customer)
    pause = Pause.objects.get(case=case)
    FollowUp.objects.filter(pk=pause.reminder_id).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    send_followup(pause.reminder_id)
    (message,) = mail.outbox
    found = re.findall(r"http://testserver\S+", message.body)
    links = {
        name: next(u for u in found if f"/pause/{name}/" in u).replace(
            "http://testserver", live_server.url
        )
        for name in ("resume", "extend")
    }
    return pause, links


def test_resume_now_from_the_reminder(chromium, live_server, make_customer, catalogue, shots):
    settings = gc_settings(
        FOLLOWUP_DISPATCH="sweep", FOLLOWUP_QUIET_HOURS=None, FOLLOWUP_MIN_INTERVAL_HOURS=0
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        pause, links = reminder_links(live_server, make_customer)
        for viewport, name in [(browser.DESKTOP, "desktop"), (browser.MOBILE, "mobile")]:
            context = chromium.new_context(locale="en-GB", viewport=viewport)
            page = context.new_page()
            page.goto(links["resume"])
            text = page.inner_text("body")
            assert "Resume your subscription now" in text
            assert re.search(r"paused until .+\((CET|CEST)\)", text), text
            assert "payments of 12.99 EUR start again from today" in text
            assert page.evaluate(NO_HORIZONTAL_SCROLL), f"{name}: the page scrolls sideways"
            page.screenshot(path=str(shots / f"resume-{name}.png"), full_page=True)
            if name == "mobile":
                page.goto(links["extend"])
                assert page.locator("input[name=days]").count() == 3  # 7, 14 and 30 days
                assert page.evaluate(NO_HORIZONTAL_SCROLL)
                page.screenshot(path=str(shots / "extend-mobile.png"), full_page=True)
                page.goto(links["resume"])
                page.get_by_role("button", name="Resume now").click()
                page.wait_for_load_state()
                assert "Welcome back" in page.inner_text("h1")
                assert "running again, from today" in page.inner_text("body")
                page.screenshot(path=str(shots / "resumed-mobile.png"), full_page=True)
            context.close()
    pause.refresh_from_db()
    assert pause.state == PauseState.RESUMED_EARLY
