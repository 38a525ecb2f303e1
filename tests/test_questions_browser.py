"""A reason's follow-up questions as a customer answers them, in Debian's Chromium through
Playwright: a choice and the 0-10 scale on the offer page, the answers stored, the cancel button
untouched, no horizontal scrolling on a phone.

Screenshots go to /tmp/shots/questions/ (GC_SHOTS_DIR overrides).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.models import CancellationCase, QuestionAnswer
from tests.support import browser, flow_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def shots() -> Path:
    path = Path(os.environ.get("GC_SHOTS_DIR", "/tmp/shots/questions"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(
    ("name", "viewport"), [("desktop", browser.DESKTOP), ("mobile", browser.MOBILE)]
)
def test_a_customer_answers_a_choice_and_the_scale_then_cancels(
    chromium, live_server, make_customer, catalogue, shots, name, viewport
):
    with override_settings(GRACEFUL_CANCEL=flow_settings()):
        customer = make_customer(f"robin-{name}")
        with browser.signed_in_pages(
            chromium, live_server.url, locale="en-GB", viewport=viewport
        ) as pages:
            page = pages(customer)
            page.goto(f"{live_server.url}/account/cancel/")
            page.check('input[name="reason"][value="price"]')
            page.click("#gc-continue")
            page.wait_for_selector("#gc-question")
            case = CancellationCase.objects.get(customer=customer)
            assert case.status == CaseStatus.OPEN
            # Nothing chosen but "No answer"; the way out is above the questions.
            assert page.is_checked("#gc-question-price-fit-none")
            assert page.is_checked("#gc-question-come-back-none")
            cancel = page.locator("#gc-decline, #gc-confirm").first
            assert cancel.is_visible()
            page.screenshot(path=str(shots / f"offer-questions-{name}.png"), full_page=True)

            page.check("#gc-question-price-fit-cheaper-elsewhere")
            page.check('input[name="question-come-back"][value="7"]')
            page.click("#gc-answer")
            page.wait_for_selector("text=we have your answer")
            assert page.evaluate(NO_HORIZONTAL_SCROLL), f"{name}: the page scrolls sideways"
            assert page.is_checked('input[name="question-come-back"][value="7"]')
            page.screenshot(path=str(shots / f"offer-answered-{name}.png"), full_page=True)

            answers = {a.question_key: a.value for a in QuestionAnswer.objects.filter(case=case)}
            assert answers == {"price-fit": "cheaper-elsewhere", "come-back": 7}

            # One click out, as before the questions.
            page.locator("#gc-decline, #gc-confirm").first.click()
            page.wait_for_url("**/done/")
            case.refresh_from_db()
            assert case.status == CaseStatus.CANCELLED
