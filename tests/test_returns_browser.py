"""The way back as the customer sees it, in Debian's Chromium through Playwright: the win-back
email with its offer, the come-back page (what will be charged, when, one button) on a desktop
and a phone, and the welcome page after the click.

Screenshots go to /tmp/shots/returns/ (GC_SHOTS_DIR overrides it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import ReturnStatus
from django_graceful_cancel.followups.links import links_for
from django_graceful_cancel.models import CaseReturn, FollowUp, RetentionOffer
from django_graceful_cancel.rendering import find_claims, render_message
from tests.support import browser, flow_settings
from tests.testapp.models import Plan, Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("GC_SHOTS_DIR", "/tmp/shots/returns"))
NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def subscribe_again(*, case: Any, quote: Any, offer: Any, idempotency_key: str) -> str:
    """The site's RESUBSCRIBE_HOOK: a new subscription on the plan the quote names."""
    sub = Subscription.objects.create(
        user=case.customer,
        plan=Plan.objects.get(code=quote.plan_code),
        current_period_end=timezone.now() + timedelta(days=30),
    )
    return f"testapp.subscription:{sub.pk}"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


def test_the_winback_email_and_the_come_back_page(chromium, live_server, make_customer, catalogue):
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings = flow_settings(
        RESUBSCRIBE_HOOK="tests.test_returns_browser.subscribe_again",
        RESUBSCRIBE_OFFER_KINDS=["discount"],
        WINBACK_OFFERS=["winback-half"],
        SITE_URL=live_server.url,
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        RetentionOffer.objects.create(
            slug="winback-half",
            kind="discount",
            title="Your first month at half price",
            parameters={"percent_off": 50},
        )
        customer = make_customer("robin")
        case, _ = services.start_case(customer, language="en", time_zone="Europe/Madrid")
        services.record_reason(case, "price", contact_consent=True)
        if services.present_offer(case) is not None:
            services.decline_offer(case)
        # Ended at once: the way back is a new subscription, not a reactivation.
        case = services.confirm_cancellation(case, effective="immediately")
        winback = FollowUp.objects.get(case=case, stage="winback")
        FollowUp.objects.filter(pk=winback.pk).update(status="sending")
        email = render_message(
            case,
            "winback",
            extra_context={**links_for(case, "email").as_context(), "followup": winback},
        )
        assert "Your first month at half price" in email.text
        assert "comeback_offer" in find_claims(email.text)
        comeback = links_for(case, "email", followup=winback).comeback
        assert comeback.startswith(live_server.url)

        context = chromium.new_context(locale="en-GB", viewport=browser.DESKTOP)
        mail = context.new_page()
        mail.set_viewport_size({"width": 760, "height": 900})
        mail.set_content(email.html)
        mail.screenshot(path=str(SHOTS / "winback-email.png"), full_page=True)
        assert (
            mail.get_by_role("link", name="Restart my subscription")
            .get_attribute("href")
            .startswith(f"{live_server.url}/account/cancel/l/comeback/")
        )

        for viewport, name in [(browser.DESKTOP, "desktop"), (browser.MOBILE, "mobile")]:
            page = context.new_page()
            page.set_viewport_size(viewport)
            page.goto(comeback)
            text = page.inner_text("body")
            assert "12.99 EUR per month" in text
            assert "6.50 EUR for the first charge, then the price above." in text
            # The first charge's date in the customer's zone (Madrid), its name written out.
            assert "today when you confirm" in text
            assert "(CET)" in text or "(CEST)" in text
            assert page.locator("button[type=submit]").count() == 1
            assert page.evaluate(NO_HORIZONTAL_SCROLL), f"{name}: the page scrolls sideways"
            page.screenshot(path=str(SHOTS / f"comeback-{name}.png"), full_page=True)
            if name == "mobile":
                page.get_by_role("button", name="Restart my subscription and pay 6.50 EUR").click()
                page.wait_for_selector("text=Welcome back")
                page.screenshot(path=str(SHOTS / "welcome-mobile.png"), full_page=True)
                assert "active again" in page.inner_text("body")
            page.close()
        context.close()
    case_return = CaseReturn.objects.get(case=case)
    assert case_return.status == ReturnStatus.RETURNED
    assert case_return.followup_id == winback.pk and case_return.offer.slug == "winback-half"
