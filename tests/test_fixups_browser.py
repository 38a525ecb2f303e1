"""Two loose ends as the customer sees them, in Debian's Chromium through Playwright: the come-back
page of a site that signs customers up on its own page (no payment-page wording, a quarterly
price read as "every 3 months"), and a withdrawn case's page (the acknowledgement, not "nothing
to cancel").

Screenshots go to /tmp/shots/fixups/ (GC_SHOTS_DIR overrides it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from django_graceful_cancel import services
from django_graceful_cancel.followups.links import comeback_link
from django_graceful_cancel.jurisdiction import parse_jurisdiction
from django_graceful_cancel.models import CancellationCase
from tests.support import browser, flow_settings
from tests.testapp.models import Plan, Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("GC_SHOTS_DIR", "/tmp/shots/fixups"))
NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


def test_the_sign_up_come_back_page(chromium, live_server, make_customer, catalogue):
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings = flow_settings(RESUBSCRIBE_URL="/join/", SITE_URL=live_server.url)
    with override_settings(GRACEFUL_CANCEL=settings):
        Plan.objects.update(interval="3 month")
        customer = make_customer("robin")
        case, _ = services.start_case(customer, language="en", time_zone="Europe/Madrid")
        services.record_reason(case, "price", contact_consent=True)
        if services.present_offer(case) is not None:
            services.decline_offer(case)
        case = services.confirm_cancellation(case, effective="immediately")
        url = comeback_link(case)
        assert url.startswith(live_server.url)
        context = chromium.new_context(locale="en-GB", viewport=browser.DESKTOP)
        for viewport, name in [(browser.DESKTOP, "desktop"), (browser.MOBILE, "mobile")]:
            page = context.new_page()
            page.set_viewport_size(viewport)
            page.goto(url)
            text = page.inner_text("body")
            assert "continue to our sign-up page" in text
            assert "payment method" not in text and "secure payment page" not in text
            assert re.search(r"\d+\.\d\d EUR every 3 months", text)
            assert page.get_by_role("button", name="Continue to sign-up").count() == 1
            assert page.evaluate(NO_HORIZONTAL_SCROLL), f"{name}: the page scrolls sideways"
            page.screenshot(path=str(SHOTS / f"comeback-signup-{name}.png"), full_page=True)
            page.close()
        context.close()


def test_a_withdrawn_case_opens_on_its_acknowledgement(
    chromium, live_server, make_customer, catalogue
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with override_settings(GRACEFUL_CANCEL=flow_settings(SITE_URL=live_server.url)):
        customer = make_customer("nora", tenure_days=3)
        ref = f"testapp.subscription:{Subscription.objects.get(user=customer).pk}"
        services.withdraw(
            customer,
            name="Nora Example",
            email=customer.email,
            subscription=ref,
            profile="de",
            jurisdiction=parse_jurisdiction("DE", source="header"),
            time_zone="Europe/Berlin",
            actor=customer,
        )
        case = CancellationCase.objects.get(customer=customer)
        context = chromium.new_context(locale="en-GB", viewport=browser.DESKTOP)
        browser.sign_in(context, customer, live_server.url)
        page = context.new_page()
        page.goto(live_server.url + reverse("graceful_cancel:done", args=[case.reference]))
        text = page.inner_text("body")
        assert "Nothing to cancel" not in text
        assert "You have withdrawn from your contract" in text
        assert re.search(r"\((CET|CEST)\)", page.inner_text("#gc-received-at"))
        page.screenshot(path=str(SHOTS / "withdrawn-case.png"), full_page=True)
        context.close()
