"""The classifier's suggestions on the desk, in Debian's Chromium through Playwright: staff see
the suggestion on the case page, follow its link, accept it from the list, and the case changes.

Screenshots go to /tmp/shots/insights/ (GC_SHOTS overrides the directory) to be looked at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from django_graceful_cancel.insights.suggestions import suggest
from django_graceful_cancel.insights.training import train
from django_graceful_cancel.models import CancellationCase, Reason
from tests.support import browser, flow_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLASSIFIER = "django_graceful_cancel.insights.text_model.TextClassifier"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def shots() -> Path:
    target = Path(os.environ.get("GC_SHOTS", "/tmp/shots/insights"))
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_staff_accept_a_suggestion_from_the_case_page(
    chromium, live_server, catalogue, customer, superuser, shots
):
    with override_settings(GRACEFUL_CANCEL={**flow_settings(), "INSIGHTS_CLASSIFIER": CLASSIFIER}):
        train()
        case = CancellationCase.objects.create(
            customer=customer,
            subscription_ref="test:1",
            reason=Reason.objects.get(slug="other"),
            reason_detail="The app crashes every time I upload photos, alice@example.com",
        )
        suggest()
        assert case.suggestions.count() == 2  # a reason and a root cause, both pending

        context = chromium.new_context(locale="en-GB", viewport=browser.DESKTOP)
        context.set_default_timeout(15_000)
        browser.sign_in(context, superuser, live_server.url)
        page = context.new_page()
        page.goto(
            live_server.url
            + reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk])
        )
        inline = page.locator("fieldset, .inline-group").filter(has_text="Classifier suggestions")
        inline.first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "case-page.png"), full_page=True)
        assert "Technical problems" in inline.first.inner_text()

        page.get_by_role("link", name="Accept or reject").first.click()
        page.wait_for_load_state()
        assert "none decided yet" in page.content()
        page.screenshot(path=str(shots / "suggestions-list.png"), full_page=True)

        # Tick the root-cause row and accept it.
        row = page.locator("#result_list tbody tr").filter(has_text="Root cause")
        row.locator("input.action-select").check()
        page.select_option("select[name=action]", "accept")
        page.get_by_role("button", name="Run").click()
        page.wait_for_load_state()
        page.screenshot(path=str(shots / "accepted.png"), full_page=True)
        assert "accepted 1 of 1" in page.content()
        context.close()

    case.refresh_from_db()
    assert case.root_cause is not None and case.root_cause.slug == "technical-problems"
    assert case.reason.slug == "other"  # the reason suggestion is still waiting for a person


def test_the_dashboard_shows_themes_with_redacted_quotes(
    chromium, live_server, catalogue, make_customer, superuser, shots
):
    texts = [
        "The price went up again, too expensive for me. Call me on +34 600 123 456.",
        "Too expensive since the price rise, sorry.",
        "The app crashes whenever I upload photos. bob@example.com",
        "App crashes on upload, every single time.",
        "We moved to a rival tool our team prefers.",
        "Our team switched to a rival tool.",
    ]
    bob = make_customer("bob")
    for n, text in enumerate(texts):
        CancellationCase.objects.create(customer=bob, subscription_ref=f"t:{n}", reason_detail=text)
    with override_settings(GRACEFUL_CANCEL={**flow_settings(), "DASHBOARD_CACHE_SECONDS": 0}):
        context = chromium.new_context(locale="en-GB", viewport=browser.DESKTOP)
        context.set_default_timeout(15_000)
        browser.sign_in(context, superuser, live_server.url)
        page = context.new_page()
        page.goto(live_server.url + reverse("admin:graceful_cancel_dashboard"))
        section = page.locator("#gc-insights")
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(shots / "dashboard-themes.png"))
        text = section.inner_text()
        context.close()
    assert "Themes in the customers' words" in text
    assert "[phone]" in text and "[email]" in text
    assert "600 123" not in text and "bob@" not in text
