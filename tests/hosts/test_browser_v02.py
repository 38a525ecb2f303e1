"""0.2's new pages inside the host sites' own base templates, in Chromium.

* the German withdrawal page and its acknowledgement in The Weekly Reader's German edition;
* the come-back confirmation and "welcome back" pages in Ledgerly (its resubscribe hook);
* the pause's "resume now" page in Ironworks Gym (its 10px root font).

Each page is measured (the site's layout and stylesheet are there, the flow's stylesheet once,
nothing overflows sideways at desktop or phone width, no flow text below 12px, the heading in
proportion) and screenshotted to /tmp/shots/hosts/ (GC_SCREENSHOTS=1: docs/img/hosts-flow/).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, PauseState, ReturnStatus, WithdrawalStatus
from django_graceful_cancel.models import CaseReturn, Pause, Withdrawal
from django_graceful_cancel.services import pauses
from tests.hosts.magazine import settings_de
from tests.hosts.magazine.models import Subscription as Reading
from tests.hosts.saas.billing import renew
from tests.hosts.saas.models import Subscription as Workspace
from tests.hosts.sites import ROOT, SITES, case_of, prepare_catalogue, serving

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = (
    ROOT / "docs" / "img" / "hosts-flow"
    if os.environ.get("GC_SCREENSHOTS") == "1"
    else Path("/tmp/shots/hosts")
)
PHONE = {"width": 390, "height": 844}

MEASURE = """() => {
  const gc = document.querySelector('.gc');
  const cs = (e) => getComputedStyle(e);
  const px = (v) => parseFloat(v);
  const shown = (e) => e.getClientRects().length > 0 && cs(e).visibility !== 'hidden';
  const own = (e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const small = [...gc.querySelectorAll('*')].filter((e) => shown(e) && own(e))
    .filter((e) => px(cs(e).fontSize) < 12)
    .map((e) => e.tagName + ': ' + e.textContent.trim().slice(0, 40));
  const h1 = gc.querySelector('h1');
  const button = gc.querySelector('button[type=submit]');
  return {
    host: document.body.dataset.host,
    flowStylesheets: document.querySelectorAll('link[rel=stylesheet][href*="flow.css"]').length,
    siteStylesheets: [...document.styleSheets].filter((s) => s.href && !s.href.includes('flow.css')
      && s.cssRules.length > 0).length,
    flowSize: px(cs(gc).fontSize), h1Size: px(cs(h1).fontSize), small,
    buttonHeight: button ? button.getBoundingClientRect().height : null,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


def look(page: Any, where: str, host: str) -> list[str]:
    """What looks wrong on the page, at desktop and phone width."""
    problems = []
    m = page.evaluate(MEASURE)
    if m["host"] != host:
        problems.append(f"{where}: not inside {host}'s base template ({m['host']})")
    if m["flowStylesheets"] != 1:
        problems.append(f"{where}: flow.css linked {m['flowStylesheets']} times")
    if m["siteStylesheets"] < 1:
        problems.append(f"{where}: the site's own stylesheet did not load")
    if m["flowSize"] < 16:
        problems.append(f"{where}: the flow's text is {m['flowSize']}px")
    if m["h1Size"] < 1.3 * m["flowSize"]:
        problems.append(f"{where}: h1 {m['h1Size']}px against text {m['flowSize']}px")
    if m["small"]:
        problems.append(f"{where}: text below 12px: {m['small']}")
    if m["buttonHeight"] is not None and m["buttonHeight"] < 40:
        problems.append(f"{where}: the button is {m['buttonHeight']}px high (a small target)")
    if m["overflow"] > 0:
        problems.append(f"{where}: overflows sideways by {m['overflow']}px at desktop width")
    page.set_viewport_size(PHONE)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        problems.append(f"{where}: overflows sideways by {overflow}px at phone width")
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


def shoot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


def test_the_german_withdrawal_inside_the_magazine(catalogue, live_server, signed_in_page):
    edition = override_settings(GRACEFUL_CANCEL=settings_de.GRACEFUL_CANCEL, **settings_de.DJANGO)
    with serving("magazine") as site, edition:
        prepare_catalogue(site)
        user = site.make_customer("jonas", days_subscribed=3, days_left=27, country="DE")
        page = signed_in_page(user, locale="de-DE", timezone_id="Europe/Berlin")
        problems: list[str] = []

        page.goto(live_server.url + reverse("magazine:account"))
        assert page.inner_text("#cancel-link") == "Verträge hier kündigen"
        assert page.inner_text("#gc-withdrawal-link") == "Vertrag widerrufen"
        shoot(page, "magazine-de-account")
        page.click("#gc-withdrawal-link")
        page.wait_for_selector("#gc-confirm-withdrawal")
        assert page.inner_text("#gc-confirm-withdrawal") == "Widerruf bestätigen"
        assert page.evaluate("document.documentElement.lang") == "de"
        problems += look(page, "withdrawal form", "magazine")
        shoot(page, "magazine-de-withdrawal")

        page.click("#gc-confirm-withdrawal")
        page.wait_for_selector("#gc-received-at")
        problems += look(page, "acknowledgement", "magazine")
        shoot(page, "magazine-de-withdrawal-received")
        received = page.inner_text("#gc-received-at")
        assert "(MEZ)" in received or "(CET)" in received or "(MESZ)" in received

        assert Withdrawal.objects.get(customer=user).status == WithdrawalStatus.WITHDRAWN
        assert Reading.objects.get(customer=user).status == Reading.Status.CANCELED
        assert not problems, "\n".join(problems)


def test_the_come_back_pages_inside_ledgerly(catalogue, live_server, signed_in_page):
    hook = {"RESUBSCRIBE_HOOK": "tests.hosts.saas.billing.subscribe_again"}
    # The receipt's link is absolute (SITE_URL, as in the messages): here, the live server.
    hook["SITE_URL"] = live_server.url
    config = {**SITES["saas"].graceful_cancel, **hook}
    with serving("saas") as site, override_settings(GRACEFUL_CANCEL=config):
        prepare_catalogue(site)
        # Owen cancelled five weeks ago; his period ended two weeks ago.
        with time_machine.travel(timezone.now() - timedelta(days=35), tick=False):
            user = site.make_customer("owen")
            case, _ = services.start_case(user, language="en")
            services.record_reason(case, "competitor", contact_consent=True)
            if services.present_offer(case) is not None:
                services.decline_offer(case)
            case = services.confirm_cancellation(case)
        renew()
        assert Workspace.objects.get(owner=user).state == "ended"
        page = signed_in_page(user)
        problems: list[str] = []

        page.goto(live_server.url + reverse("graceful_cancel:done", args=[case.reference]))
        page.click("#gc-comeback")
        page.wait_for_selector("#gc-comeback-confirm")
        assert "29.00 GBP" in page.inner_text("#gc-comeback-confirm")
        problems += look(page, "come-back confirmation", "saas")
        shoot(page, "saas-comeback-confirm")
        page.click("#gc-comeback-confirm")
        page.wait_for_selector("h1.gc-heading")
        assert "Welcome back" in page.inner_text("h1.gc-heading")
        problems += look(page, "welcome back", "saas")
        shoot(page, "saas-comeback-welcome")

        assert CaseReturn.objects.get(case=case).status == ReturnStatus.RETURNED
        assert Workspace.objects.filter(owner=user, state="active").count() == 1
        assert not problems, "\n".join(problems)


def test_the_pause_resume_page_inside_the_gym(catalogue, live_server, signed_in_page):
    with serving("gym") as site:
        prepare_catalogue(site)
        # Lena paused for two months 54 days ago: her reminder went out yesterday.
        with time_machine.travel(timezone.now() - timedelta(days=54), tick=False):
            user = site.make_customer("lena")
            case, _ = services.start_case(user, language="en")
            services.record_reason(case, "temporary")
            assert services.present_offer(case) is not None
            case = services.accept_offer(case, actor=user)
        assert case.status == CaseStatus.SAVED
        pause = Pause.objects.get(case=case)
        page = signed_in_page(user)
        problems: list[str] = []

        resume = reverse("graceful_cancel:pause_resume", args=[pauses.make_token("resume", pause)])
        page.goto(live_server.url + resume)
        button = page.locator(".gc button[type=submit]")
        assert button.count() == 1
        # "Resume now" and "Cancel instead" are two targets a thumb must tell apart.
        cancel = page.get_by_role("link", name="Cancel instead")
        gap = cancel.bounding_box()["y"] - (
            button.bounding_box()["y"] + button.bounding_box()["height"]
        )
        if gap < 8:
            problems.append(f"resume page: the cancel link is {gap}px under the button")
        problems += look(page, "resume page", "gym")
        shoot(page, "gym-pause-resume")
        button.click()
        page.wait_for_load_state()
        assert "running again" in page.inner_text(".gc")
        problems += look(page, "resumed", "gym")
        shoot(page, "gym-pause-resumed")

        pause.refresh_from_db()
        assert pause.state == PauseState.RESUMED_EARLY
        assert case_of(user).status == CaseStatus.SAVED
        assert not problems, "\n".join(problems)
