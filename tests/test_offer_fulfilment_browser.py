"""What the customer sees of an offer staff apply, and of one that cannot be applied, in Debian's
Chromium through Playwright (the test project's base template and the flow's stylesheet).

GC_SCREENSHOTS=1 keeps the screenshots in /tmp/gc-fulfilment-shots for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from django_graceful_cancel import services
from django_graceful_cancel.models import Reason, RetentionOffer
from tests.support import browser as browser_support
from tests.support import flow_settings
from tests.testapp.models import Plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    # The shared launcher: one Playwright per process, whichever directory's tests start it.
    with browser_support.chromium() as browser:
        yield browser


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = (
        Path("/tmp/gc-fulfilment-shots") if os.environ.get("GC_SCREENSHOTS") == "1" else tmp_path
    )
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def page_for(chromium: Any, live_server: Any, settings: Any) -> Iterator[Any]:
    settings.GRACEFUL_CANCEL = flow_settings()
    contexts: list[Any] = []

    def make(user: Any) -> Any:
        client = Client()
        client.force_login(user)
        context = chromium.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
        context.set_default_timeout(15_000)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def offer_url(live_server: Any, customer: Any, reason: str) -> str:
    case, _ = services.start_case(customer)
    services.record_reason(case, reason)
    services.present_offer(case)
    return live_server.url + reverse("graceful_cancel:offer", args=[case.reference])


def test_an_offer_staff_apply_says_so_before_and_after(
    page_for, live_server, make_customer, catalogue, shots
):
    customer = make_customer()
    page = page_for(customer)
    page.goto(offer_url(live_server, customer, "price"))
    note = page.locator("#gc-fulfilment")
    assert note.is_visible()
    assert "our team applies it for you within 2 business days" in note.inner_text()
    page.screenshot(path=str(shots / "offer-staff.png"), full_page=True)
    page.click("#gc-accept")
    page.wait_for_url("**/saved/**")
    promise = page.locator("#gc-fulfilment").inner_text()
    assert promise.startswith("Our team applies this offer for you within 2 business days, by ")
    page.screenshot(path=str(shots / "saved-staff.png"), full_page=True)


def test_an_offer_that_cannot_be_applied_leaves_only_the_way_out(
    page_for, live_server, make_customer, catalogue, shots
):
    RetentionOffer.objects.filter(reasons__slug="competitor").update(is_active=False)
    offer = RetentionOffer.objects.create(
        slug="to-basic", kind="downgrade", title="Switch to Basic", parameters={"plan": "basic"}
    )
    offer.reasons.add(Reason.objects.get(slug="competitor"))
    customer = make_customer(plan="premium")
    page = page_for(customer)
    page.goto(offer_url(live_server, customer, "competitor"))
    Plan.objects.filter(code="basic").update(code="basic-old")  # gone since it was shown
    page.click("#gc-accept")
    alert = page.locator(".gc-alert")
    assert "can't be applied to your subscription" in alert.inner_text()
    assert page.locator("#gc-accept").count() == 0
    assert page.locator("#gc-confirm").is_visible()
    page.screenshot(path=str(shots / "offer-not-applicable.png"), full_page=True)
    page.click("#gc-confirm")
    page.wait_for_url("**/done/**")
