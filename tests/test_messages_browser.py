"""Messages written for the person, as customers see them: the confirmation page and the
thank-you email (HTML) for three reasons, in Debian's Chromium through Playwright.

GC_SCREENSHOTS=1 writes the screenshots into docs/img/messages/ (docs/messages.md shows them);
otherwise they go to a temporary directory. Either way the pages are checked: the reason's own
copy, the customer's words (escaped), the claims the settings make true and nothing else, and no
horizontal scrolling on a phone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_graceful_cancel import services
from django_graceful_cancel.followups.links import links_for
from django_graceful_cancel.rendering import find_claims, render_message
from tests.support import browser, flow_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img" / "messages"

#: reason, the customer's words, how it ends, and what the site has set up.
CASES = {
    "price": {
        "words": "The price went up twice this year and I barely use it",
        "effective": None,
        "settings": {
            "FEEDBACK_ROUTES": {"price": {"to": ["pricing@example.com"]}},
            "GOODBYE": {
                "gift": {
                    "title": "Our guide to getting more for less",
                    "url": "https://example.com/guide",
                    "code": "COMEBACK20",
                },
            },
        },
    },
    "customer-service": {
        "words": "Nobody answered my emails <for three weeks>",
        "effective": None,
        "settings": {
            "FEEDBACK_ROUTES": {"service": {"groups": ["Support leads"], "mode": "digest"}},
            "GOODBYE": {"keeps_content": True},
        },
    },
    "business-closed": {
        "words": "",
        "effective": "immediately",
        "settings": {"GOODBYE": {"export_extra": None}},
    },
}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("GC_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        return DOCS_IMG
    return tmp_path


NO_HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("slug", list(CASES))
def test_the_confirmation_page_and_the_thank_you_for_a_reason(
    chromium, live_server, make_customer, catalogue, shots, slug
):
    spec = CASES[slug]
    with override_settings(GRACEFUL_CANCEL=flow_settings(**spec["settings"])):
        customer = make_customer("alex")
        case, _ = services.start_case(customer, language="en")
        services.record_reason(case, slug, detail=spec["words"], contact_consent=True)
        services.confirm_cancellation(case, effective=spec["effective"])
        case.refresh_from_db()
        thank_you = render_message(
            case, "thank_you", extra_context=links_for(case, "email").as_context()
        )
        for width, height, name in [(1280, 900, "desktop"), (390, 844, "mobile")]:
            context = chromium.new_context(
                locale="en-GB", viewport={"width": width, "height": height}
            )
            browser.sign_in(context, customer, live_server.url)
            page = context.new_page()
            page.goto(f"{live_server.url}/account/cancel/{case.reference}/done/")
            text = page.inner_text("body")
            assert page.evaluate(NO_HORIZONTAL_SCROLL), f"{slug} {name}: the page scrolls sideways"
            page.screenshot(path=str(shots / f"{slug}-confirmation-{name}.png"), full_page=True)
            if name == "desktop":
                mail = context.new_page()
                mail.set_viewport_size({"width": 760, "height": 900})
                mail.set_content(thank_you.html)
                mail_text = mail.inner_text("body")
                mail.screenshot(path=str(shots / f"{slug}-thank-you-email.png"), full_page=True)
                mail.close()
            context.close()
    claims = find_claims(text) | find_claims(mail_text)
    if slug == "price":
        assert "Price matters" in text
        assert "Your answer goes to the people who set our prices." in text
        assert "The price went up twice this year" in text
        assert "COMEBACK20" in mail_text and "COMEBACK20" in text
        assert {"feedback_routed", "their_words", "gift", "export_url"} <= claims
    if slug == "customer-service":
        assert "That is on us, not on you." in text
        assert "Nobody answered my emails <for three weeks>" in text  # shown as text, escaped
        assert "Your account and your content are kept" in mail_text
        assert "people who run our customer service" in mail_text
    if slug == "business-closed":
        assert "your business is closing" in text
        assert "own words" not in text and "own words" not in mail_text  # they wrote nothing
        assert not {"access_until", "can_reactivate", "feedback_routed", "gift"} & claims
        assert "Keep my subscription" not in mail_text
