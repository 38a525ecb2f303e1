"""The flow in German, in a customer's browser (issue 16): a browser that asks for German gets
every page of the cancellation in German, in the formal register, with the catalogue's reasons
and offers in German and dates with German month names; nothing on a page stays in English.

Each step is walked twice, by a German and by an English browser, and the visible sentences are
compared: a sentence the German page shares with the English one (beyond names, numbers and
references) is English left on the German page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.models import CancellationCase
from tests.support import flow_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GERMAN_MONTHS = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings()


def sentences(text: str) -> set[str]:
    found = set()
    for line in text.splitlines():
        for part in re.split(r"(?<=[.!?:])\s+", line):
            part = " ".join(part.split())
            if len(re.findall(r"[^\W\d_]{2,}", part)) >= 2:
                found.add(part)
    return found


def english_left(german: str, english: str, ignore: list[str]) -> set[str]:
    def clean(text: str) -> str:
        for value in ignore:
            text = text.replace(value, " ")
        return re.sub(r"GC-[\w-]+|\S+@\S+", " ", text)

    return sentences(clean(german)) & sentences(clean(english))


def walk(page: Any, url: str, shots: Any, name: str) -> dict[str, str]:
    """The flow's pages as the customer reads them (the app's part of each page, not the host's
    layout): start, offer with its question, done."""
    texts = {}
    page.goto(f"{url}/account/cancel/")
    page.wait_for_selector("#gc-continue")
    texts["start"] = page.inner_text(".gc")
    page.screenshot(path=str(shots / f"{name}-start.png"), full_page=True)
    page.check("input[name=reason][value=price]")
    page.click("#gc-continue")
    page.wait_for_selector("#gc-question")
    texts["offer"] = page.inner_text(".gc")
    page.screenshot(path=str(shots / f"{name}-offer.png"), full_page=True)
    page.fill("#gc-question-answer", "8")
    page.click("#gc-answer")
    page.wait_for_selector("#gc-decline")
    page.click("#gc-decline")
    page.wait_for_selector(".gc-receipt")
    texts["done"] = page.inner_text(".gc")
    page.screenshot(path=str(shots / f"{name}-done.png"), full_page=True)
    return texts


def test_the_flow_speaks_german_to_a_german_browser(
    customer_browser, live_server, make_customer, catalogue, shots
):
    anna = make_customer("anna")
    emma = make_customer("emma")

    german = walk(customer_browser(anna, locale="de-DE"), live_server.url, shots, "de")
    english = walk(customer_browser(emma, locale="en-US"), live_server.url, shots, "en")

    # The catalogue's rows in German, the copy in the formal register.
    assert "Es kostet zu viel für das, was ich bekomme" in german["start"]
    assert "Welcher Preis wäre für Sie fair?" in german["offer"]
    assert "30 % Rabatt für die nächsten 3 Monate" in german["offer"]
    assert "Nein danke, mein Abo kündigen" in german["offer"]
    assert "Wir haben Ihre Kündigung erhalten" in german["done"]
    assert re.search(rf"\d{{1,2}}\. (?:{GERMAN_MONTHS}) \d{{4}}", german["done"])
    for text in german.values():
        assert not re.search(r"\b(?:du|dein|dich|dir)\b", text), "the informal register"

    ignore = ["Anna", "Emma", "anna", "emma", "Standard", "Test Streaming", "8"]
    for step in german:
        left = english_left(german[step], english[step], ignore)
        assert left == set(), f"{step}: English left on the German page: {sorted(left)}"

    case = CancellationCase.objects.get(customer=anna)
    assert case.status == CaseStatus.CANCELLED
    assert case.language.startswith("de")
