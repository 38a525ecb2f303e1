"""The flow in a customer's browser (issue 13): the reason's follow-up question on the offer
page, and dates in the browser's own time zone from the first form to the receipt."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.models import CancellationCase
from tests.support import flow_settings
from tests.testapp.models import Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings()


def test_question_answered_then_dates_in_the_browsers_zone(
    customer_browser, live_server, customer, catalogue, shots
):
    # The paid period ends at 02:00 UTC: still the evening before in New York.
    end = (timezone.now() + dt.timedelta(days=20)).replace(
        hour=2, minute=0, second=0, microsecond=0
    )
    Subscription.objects.filter(user=customer).update(current_period_end=end)
    new_york_day = timezone.localtime(end, ZoneInfo("America/New_York")).day

    page = customer_browser(customer, time_zone="America/New_York")
    page.goto(f"{live_server.url}/account/cancel/")
    page.check("input[name=reason][value=price]")
    page.click("#gc-continue")
    page.wait_for_selector("#gc-question")
    question = page.inner_text("#gc-question")
    assert "What price would feel fair to you?" in question
    page.fill("#gc-question-answer", "About 8 euros a month")
    page.screenshot(path=str(shots / "offer-question.png"), full_page=True)
    page.click("#gc-answer")
    page.wait_for_selector("text=Thank you: we have your answer.")
    case = CancellationCase.objects.get(customer=customer)
    assert case.reason_detail == "About 8 euros a month"
    assert case.time_zone == "America/New_York"  # flow.js sent the browser's zone

    page.click("#gc-decline")
    page.wait_for_selector(".gc-receipt")
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    receipt = page.inner_text(".gc-receipt")
    assert "(EDT)" in receipt or "(EST)" in receipt
    assert f" {new_york_day}, " in receipt  # the New York day, not the UTC one
    assert "(UTC)" not in receipt
    page.screenshot(path=str(shots / "done-new-york.png"), full_page=True)
