"""The drop-in web component <graceful-cancel-flow> in Chromium, on the example site's single-page
account page (/account/spa/): the whole flow against the REST API, its keyboard and screen-reader
contract, errors shown to the customer, and the case recorded exactly as the server-rendered pages
record it (the same path through the pages, by another customer, gives the same timeline)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from django_graceful_cancel.choices import CaseStatus, OfferOutcome
from django_graceful_cancel.models import CancellationCase, OfferPresentation
from tests.support import flow_settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("inline_confirmations"),
]

EVENTS = [
    "started",
    "reason-recorded",
    "offer-presented",
    "offer-accepted",
    "offer-declined",
    "cancelled",
    "reactivated",
    "error",
]
# Runs before the page's scripts: every event the element sends, as the host page hears it.
RECORD_EVENTS = (
    "window.__gcEvents = [];"
    f"for (const name of {json.dumps(EVENTS)})"
    """ {
  document.addEventListener("graceful-cancel:" + name, (event) => window.__gcEvents.push({
    name, reference: event.detail.reference, status: event.detail.status,
    code: event.detail.code || null, bubbles: event.bubbles, composed: event.composed,
  }));
}"""
)
DEEP_FOCUS = "e => e.getRootNode().activeElement === e"


@pytest.fixture
def bob(alice: Any, django_user_model: Any) -> Any:
    """Another customer on Standard, like alice: walks the same path through the pages."""
    from shop.models import Plan, Subscription

    user = django_user_model.objects.create_user(
        username="bob", email="bob@example.com", password="demo", first_name="Bob"
    )
    now = timezone.now()
    Subscription.objects.create(
        user=user,
        plan=Plan.objects.get(code="standard"),
        started_at=now - timedelta(days=400),
        current_period_end=now + timedelta(days=20),
    )
    return user


@pytest.fixture
def flow_page(chromium: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Like ``new_page``, in a browser in Madrid: ``flow_page(user, locale="en-GB")``."""
    contexts: list[Any] = []

    def make(user: Any, *, locale: str = "en-GB") -> Any:
        context = chromium.new_context(
            locale=locale, timezone_id="Europe/Madrid", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.add_init_script(RECORD_EVENTS)
        return page

    yield make
    for context in contexts:
        context.close()


def open_flow(
    flow_page: Any, live_server: Any, user: Any, *, locale: str = "en-GB", toggle: str = ""
) -> Any:
    """The single-page account page with the flow opened by its "Cancel subscription" button."""
    page = flow_page(user, locale=locale)
    page.goto(f"{live_server.url}/account/spa/")
    page.get_by_role("button", name=toggle or "Cancel subscription").click()
    expect(heading(page)).to_be_visible()
    return page


def heading(page: Any) -> Any:
    return page.locator("graceful-cancel-flow .gc-heading")


def alert(page: Any) -> Any:
    return page.locator("graceful-cancel-flow [role=alert]")


def events(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.__gcEvents")


def kinds(case: CancellationCase) -> list[str]:
    return list(case.events.order_by("created_at", "pk").values_list("kind", flat=True))


def through_the_pages(customer: Any, *steps: tuple[str, dict[str, str]]) -> CancellationCase:
    """The same path through the server-rendered pages: ("start", form data), ("confirm", {}),
    ("accept", {}), ("reactivate", {})."""
    client = Client()
    client.force_login(customer)
    for step, data in steps:
        if step == "start":
            response = client.post(reverse("graceful_cancel:start"), data)
        else:
            case = CancellationCase.objects.filter(customer=customer).latest("created_at")
            response = client.post(reverse(f"graceful_cancel:{step}", args=[case.reference]), data)
        assert response.status_code == 302, (step, response.status_code)
    return CancellationCase.objects.filter(customer=customer).latest("created_at")


def park_mouse(page: Any) -> None:
    page.mouse.move(0, 0)  # no hover effect in the screenshots


def test_cancel_with_a_reason_declining_the_offer(flow_page, live_server, alice, bob, shoot):
    page = open_flow(flow_page, live_server, alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(heading(page)).to_have_text("Cancel your subscription")
    # Opening the flow moves the focus to its heading, for keyboard and screen-reader users.
    assert heading(page).evaluate(DEEP_FOCUS)
    assert CancellationCase.objects.count() == 0  # looking at the flow starts nothing
    # The way out first: on screen without scrolling at both widths, before the survey.
    cancel = page.locator("#gc-cancel-now")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        cancel.scroll_into_view_if_needed()
        box = cancel.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height
    page.set_viewport_size({"width": 1280, "height": 900})
    order = page.locator("graceful-cancel-flow").evaluate(
        "e => [...e.shadowRoot.querySelectorAll('#gc-cancel-now, #gc-continue')].map(b => b.id)"
    )
    assert order == ["gc-cancel-now", "gc-continue"]
    park_mouse(page)
    shoot(page, "web-component-start")

    page.get_by_label("It costs too much for what I get").check()
    page.get_by_label("Anything you would like to add? (optional)").fill("Too dear for me")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Before you go")
    assert heading(page).evaluate(DEEP_FOCUS)
    expect(page.locator("graceful-cancel-flow .gc-message")).to_contain_text("Price matters")
    offer = page.locator("graceful-cancel-flow .gc-offer")
    expect(offer).to_contain_text("30% off for the next 3 months")
    # Accept and decline: same size, same colours, same weight, at both widths.
    accept, decline = page.locator("#gc-accept"), page.locator("#gc-decline")
    style = (
        "e => ['backgroundColor', 'color', 'fontSize', 'fontWeight', 'borderColor']"
        ".map(p => getComputedStyle(e)[p])"
    )
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        park_mouse(page)
        a, d = accept.bounding_box(), decline.bounding_box()
        assert a["height"] == d["height"] and abs(a["width"] - d["width"]) <= 1
        assert accept.evaluate(style) == decline.evaluate(style)
    page.set_viewport_size({"width": 1280, "height": 900})
    park_mouse(page)
    shoot(page, "web-component-offer")

    decline.click()
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    assert heading(page).evaluate(DEEP_FOCUS)
    case = CancellationCase.objects.get(customer=alice)
    receipt = page.locator("graceful-cancel-flow .gc-receipt")
    expect(receipt).to_contain_text(case.reference)
    # The effective date, with its time zone (the browser's, sent when the case started).
    assert case.time_zone == "Europe/Madrid"
    expect(receipt).to_contain_text("(Europe/Madrid)")
    expect(receipt).to_contain_text(str(case.effective_at.astimezone().year))
    # The host page heard the outcome and updated itself.
    expect(page.locator("#sub-status")).to_contain_text("ends at the end of the period")
    park_mouse(page)
    shoot(page, "web-component-done")

    assert (case.status, case.reason.slug, case.reason_detail) == (
        CaseStatus.CANCELLED,
        "price",
        "Too dear for me",
    )
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    seen = events(page)
    assert [e["name"] for e in seen] == [
        "started",
        "reason-recorded",
        "offer-presented",
        "offer-declined",
        "cancelled",
    ]
    assert all(e["reference"] == case.reference and e["bubbles"] and e["composed"] for e in seen)
    assert seen[-1]["status"] == "cancelled"

    paged = through_the_pages(
        bob,
        ("start", {"action": "continue", "reason": "price", "detail": "Too dear for me"}),
        ("confirm", {}),
    )
    assert kinds(case) == kinds(paged)
    assert "offer_declined" in kinds(case) and "cancelled" in kinds(case)


def test_change_the_answer_then_accept_the_offer(flow_page, live_server, alice, bob, shoot):
    page = open_flow(flow_page, live_server, alice)
    page.get_by_label("It costs too much for what I get").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#gc-accept")).to_be_visible()
    # Back to the survey: the answer is still there, and the same case gets the same one offer.
    page.get_by_role("button", name="Change my answer").click()
    expect(heading(page)).to_have_text("Cancel your subscription")
    assert heading(page).evaluate(DEEP_FOCUS)
    expect(page.get_by_label("It costs too much for what I get")).to_be_checked()
    page.get_by_label("Anything you would like to add? (optional)").fill("Cheaper elsewhere")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("graceful-cancel-flow .gc-offer")).to_contain_text(
        "30% off for the next 3 months"
    )
    page.get_by_role("button", name="Accept the offer").click()
    expect(heading(page)).to_have_text("Thank you for staying")
    assert heading(page).evaluate(DEEP_FOCUS)
    expect(page.locator("graceful-cancel-flow .gc-saved")).to_contain_text(
        "30% off for the next 3 months"
    )
    park_mouse(page)
    shoot(page, "web-component-saved")
    case = CancellationCase.objects.get(customer=alice)
    assert case.status == CaseStatus.SAVED
    assert case.offer_presentation.outcome == OfferOutcome.ACCEPTED
    assert case.reason_detail == "Cheaper elsewhere"
    assert [e["name"] for e in events(page)] == [
        "started",
        "reason-recorded",
        "offer-presented",
        "reason-recorded",
        "offer-accepted",
    ]
    paged = through_the_pages(
        bob,
        ("start", {"action": "continue", "reason": "price"}),
        ("start", {"action": "continue", "reason": "price", "detail": "Cheaper elsewhere"}),
        ("accept", {}),
    )
    assert kinds(case) == kinds(paged)
    assert kinds(case).count("reason_recorded") == 2 and "offer_accepted" in kinds(case)


def test_cancel_at_once_then_reactivate_from_the_receipt(flow_page, live_server, alice, bob):
    page = open_flow(flow_page, live_server, alice)
    page.get_by_role("button", name="Cancel my subscription").click()
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    case = CancellationCase.objects.get(customer=alice)
    assert case.status == CaseStatus.CANCELLED and case.reason is None
    # Back later: the page opens the element on the receipt (its "reference" attribute).
    page.reload()
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    expect(page.locator("graceful-cancel-flow .gc-receipt")).to_contain_text(case.reference)
    expect(page.locator("graceful-cancel-flow")).to_contain_text(
        "You can reactivate your subscription with one click until"
    )
    page.get_by_role("button", name="Reactivate my subscription").click()
    expect(heading(page)).to_have_text("Welcome back")
    assert heading(page).evaluate(DEEP_FOCUS)
    expect(page.locator("#sub-status")).to_have_text("Active")
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    seen = events(page)
    assert [e["name"] for e in seen] == ["reactivated"]
    assert seen[0]["reference"] == case.reference
    assert seen[0]["bubbles"] and seen[0]["composed"]
    paged = through_the_pages(bob, ("start", {"action": "cancel"}), ("reactivate", {}))
    assert kinds(case) == kinds(paged)
    assert kinds(case)[0] == "started" and "reactivated" in kinds(case)


def _tab_to(page: Any, selector: str, limit: int = 60) -> None:
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate(DEEP_FOCUS):
            outline = target.evaluate("e => getComputedStyle(e).outlineStyle")
            assert outline not in ("", "none"), f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only(new_page, live_server, alice):
    page = new_page(alice)
    page.goto(f"{live_server.url}/account/spa/")
    _tab_to(page, "#cancel-subscription")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Cancel your subscription")
    assert heading(page).evaluate(DEEP_FOCUS)
    assert page.locator("#cancel-subscription").get_attribute("aria-expanded") == "true"
    # The radio group is a fieldset with a legend; Tab goes in, arrows move the choice.
    legend = page.locator("graceful-cancel-flow fieldset legend").first
    assert legend.inner_text().startswith("Why are you leaving?")
    _tab_to(page, 'graceful-cancel-flow input[name="reason"] >> nth=0')
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    checked = page.locator('graceful-cancel-flow input[name="reason"]:checked')
    assert checked.get_attribute("value") == "quality"
    _tab_to(page, "#gc-continue")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Before you go")
    assert heading(page).evaluate(DEEP_FOCUS)
    confirm = "#gc-decline" if page.locator("#gc-decline").count() else "#gc-confirm"
    _tab_to(page, confirm)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    assert heading(page).evaluate(DEEP_FOCUS)
    case = CancellationCase.objects.get(customer=alice)
    assert (case.status, case.reason.slug) == (CaseStatus.CANCELLED, "quality")


def test_a_conflict_from_another_tab_is_shown(flow_page, live_server, alice):
    page = open_flow(flow_page, live_server, alice)
    page.get_by_label("It costs too much for what I get").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#gc-accept")).to_be_visible()
    case = CancellationCase.objects.get(customer=alice)
    # Meanwhile, in another tab, the customer cancels the same case on the server's page.
    other = page.context.new_page()
    other.goto(f"{live_server.url}/account/cancel/{case.reference}/")
    other.get_by_role("button", name="No thanks, cancel my subscription").click()
    expect(other.locator("h1")).to_have_text("Your subscription is cancelled")
    # Back in the first tab the offer is no longer there to accept: the API answers 409.
    page.get_by_role("button", name="Accept the offer").click()
    expect(alert(page)).to_have_text("This case can no longer be changed that way.")
    # ... and the element shows where the case really is.
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    expect(page.locator("graceful-cancel-flow .gc-receipt")).to_contain_text(case.reference)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    errors = [e for e in events(page) if e["name"] == "error"]
    assert [(e["code"], e["reference"]) for e in errors] == [("case_not_open", case.reference)]


def test_already_cancelled_in_another_tab(flow_page, live_server, alice):
    page = open_flow(flow_page, live_server, alice)
    other = page.context.new_page()
    other.goto(f"{live_server.url}/account/cancel/")
    other.locator("#gc-cancel-now").click()
    expect(other.locator("h1")).to_have_text("Your subscription is cancelled")
    # The start step is still on screen in the first tab; cancelling again is refused (409).
    page.get_by_role("button", name="Cancel my subscription").click()
    expect(heading(page)).to_have_text("Your subscription is already cancelled")
    assert heading(page).evaluate(DEEP_FOCUS)
    expect(page.locator("graceful-cancel-flow")).to_contain_text(
        "Your subscription is already set to end. There is nothing more to do."
    )
    assert [(e["name"], e["code"]) for e in events(page)] == [("error", "already_cancelled")]
    assert CancellationCase.objects.filter(customer=alice).count() == 1


def test_a_network_failure_is_shown_and_the_retry_is_idempotent(flow_page, live_server, alice):
    page = open_flow(flow_page, live_server, alice)
    keys: list[str] = []

    def drop(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        route.abort("internetdisconnected")

    page.route("**/api/cancel/cases/", drop)
    page.get_by_role("button", name="Cancel my subscription").click()
    expect(alert(page)).to_have_text(
        "We could not reach the server. Check your connection and try again."
    )
    expect(heading(page)).to_have_text("Cancel your subscription")
    assert CancellationCase.objects.count() == 0
    assert [e["name"] for e in events(page)] == ["error"]
    # The connection is back: the same click again, with the same Idempotency-Key.
    page.unroute("**/api/cancel/cases/")
    with page.expect_request("**/api/cancel/cases/") as sent:
        page.get_by_role("button", name="Cancel my subscription").click()
    assert len(keys) == 1 and sent.value.headers["idempotency-key"] == keys[0]
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    expect(alert(page)).to_have_text("")
    assert CancellationCase.objects.get(customer=alice).status == CaseStatus.CANCELLED


def test_a_field_error_is_shown_next_to_its_field(flow_page, live_server, alice):
    page = open_flow(flow_page, live_server, alice)
    page.get_by_label("You may contact me about this cancellation").check()
    page.get_by_role("radio", name="SMS").check()
    page.get_by_role("button", name="Continue").click()
    expect(alert(page)).to_have_text("Please check the answers marked below.")
    phone = page.get_by_label("Phone number (only for SMS, WhatsApp or a call)")
    expect(phone).to_have_attribute("aria-invalid", "true")
    # The message is the API's, tied to the field for screen readers, and the field has focus.
    described = phone.get_attribute("aria-describedby")
    message = page.locator(f"graceful-cancel-flow #{described}")
    expect(message).to_have_text("Please give a phone number for this channel.")
    assert phone.evaluate(DEEP_FOCUS)
    # The answers given are still there.
    expect(page.get_by_role("radio", name="SMS")).to_be_checked()
    expect(page.get_by_label("You may contact me about this cancellation")).to_be_checked()
    assert CancellationCase.objects.get(customer=alice).reason_detail == ""
    phone.fill("+34 600 000 000")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Before you go")
    expect(alert(page)).to_have_text("")
    case = CancellationCase.objects.get(customer=alice)
    assert case.preferred_channel == "sms" and case.contact_consent
    assert case.contact_phone.replace(" ", "") == "+34600000000"


def test_spanish(flow_page, live_server, alice):
    page = open_flow(flow_page, live_server, alice, locale="es-ES", toggle="Cancelar suscripción")
    expect(heading(page)).to_have_text("Cancela tu suscripción")
    page.get_by_label("Cuesta demasiado para lo que recibo").check()
    page.get_by_role("button", name="Continuar").click()
    expect(heading(page)).to_have_text("Antes de irte")
    expect(page.locator("graceful-cancel-flow .gc-offer")).to_contain_text("30 % de descuento")
    page.get_by_role("button", name="No, gracias, cancelar mi suscripción").click()
    expect(heading(page)).to_have_text("Tu suscripción está cancelada")
    receipt = page.locator("graceful-cancel-flow .gc-receipt")
    expect(receipt).to_contain_text("Surte efecto")
    expect(receipt).to_contain_text(re.compile(r"\d+ de \w+ de \d{4}"))  # the date in Spanish
    # The case speaks Spanish from now on: its confirmation and follow-ups too.
    case = CancellationCase.objects.get(customer=alice)
    assert case.language == "es"


def test_a_staff_routed_offer_says_who_applies_it_before_and_after(
    flow_page, live_server, alice, shoot
):
    # The example site routes discounts to staff (OFFER_FULFILMENT): the offer is a promise a
    # person keeps, and the element says so in the offer page's and the saved page's words.
    page = open_flow(flow_page, live_server, alice)
    page.get_by_label("It costs too much for what I get").check()
    page.get_by_role("button", name="Continue").click()
    offer = page.locator("graceful-cancel-flow .gc-offer")
    expect(offer).to_contain_text(
        "If you accept, our team applies it for you within 2 business days."
    )
    # Before the buttons, so it is read before the choice.
    assert offer.locator(".gc-fulfilment + .gc-equal-choices").count() == 1
    park_mouse(page)
    shoot(page, "web-component-offer-staff")
    page.get_by_role("button", name="Accept the offer").click()
    expect(heading(page)).to_have_text("Thank you for staying")
    saved = page.locator("graceful-cancel-flow .gc-saved .gc-fulfilment")
    expect(saved).to_contain_text("Our team applies this offer for you within 2 business days, by")
    expect(saved).to_contain_text("You don't need to do anything.")
    shoot(page, "web-component-saved-staff")
    # The same sentence as the server-rendered saved page.
    case = CancellationCase.objects.get(customer=alice)
    client = Client()
    client.force_login(alice)
    page_html = client.get(reverse("graceful_cancel:saved", args=[case.reference]))
    sentence = page_html.content.decode().replace("&#x27;", "'").split('id="gc-fulfilment">')[1]
    assert saved.inner_text().strip() == sentence.split("</p>")[0].strip()


def test_eu_profile_layout_no_offer_and_the_same_record(
    flow_page, live_server, alice, bob, settings, shoot
):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu")
    page = open_flow(flow_page, live_server, alice)
    # The EU start page: its heading, the confirm button first, the survey only an extra.
    expect(heading(page)).to_have_text("Cancel contracts here")
    assert page.get_by_role("button", name="Continue").count() == 0
    survey = page.locator("graceful-cancel-flow details.gc-survey")
    expect(survey).not_to_have_attribute("open", "")
    expect(page.locator("#gc-cancel-now")).to_be_visible()
    park_mouse(page)
    shoot(page, "web-component-eu")
    page.get_by_text("Tell us why you are leaving (optional)").click()
    page.get_by_label("It costs too much for what I get").check()
    page.get_by_role("button", name="Cancel my subscription and send my answers").click()
    # One click: the answer is sent and the cancellation confirmed, with no offer on the way.
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    case = CancellationCase.objects.get(customer=alice)
    assert (case.compliance_profile, case.reason.slug) == ("eu", "price")
    assert case.status == CaseStatus.CANCELLED
    assert not OfferPresentation.objects.filter(case=case).exists()
    assert [e["name"] for e in events(page)] == ["started", "reason-recorded", "cancelled"]
    # The EU page cancels with the answer in one step: the same timeline.
    paged = through_the_pages(bob, ("start", {"action": "cancel", "reason": "price"}))
    assert kinds(case) == kinds(paged)
    assert "reason_recorded" in kinds(case) and "offer_presented" not in kinds(case)


def test_fr_profile_heading_and_cancel_at_once_like_the_page(
    flow_page, live_server, alice, bob, settings
):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="fr")
    page_html = Client()
    page_html.force_login(bob)
    start_page = page_html.get(reverse("graceful_cancel:start")).content.decode()
    assert "Cancel your contract" in start_page and 'id="gc-continue"' not in start_page
    page = open_flow(flow_page, live_server, alice)
    expect(heading(page)).to_have_text("Cancel your contract")
    assert page.get_by_role("button", name="Continue").count() == 0
    page.locator("#gc-cancel-now").click()
    expect(heading(page)).to_have_text("Your subscription is cancelled")
    case = CancellationCase.objects.get(customer=alice)
    assert (case.compliance_profile, case.status) == ("fr", CaseStatus.CANCELLED)
    assert case.reason is None and not OfferPresentation.objects.filter(case=case).exists()
    paged = through_the_pages(bob, ("start", {"action": "cancel"}))
    assert kinds(case) == kinds(paged)


def test_without_the_script_the_fallback_link_stays(new_page, live_server, alice):
    page = new_page(alice)
    page.route("**/graceful-cancel-flow.js", lambda route: route.abort())
    page.goto(f"{live_server.url}/account/spa/")
    link = page.get_by_role("link", name="Cancel your subscription")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("h1")).to_have_text("Cancel your subscription")
    assert page.url.endswith("/account/cancel/")


def test_when_the_api_cannot_load_the_error_and_the_fallback_show(new_page, live_server, alice):
    page = new_page(alice)
    page.add_init_script(RECORD_EVENTS)
    page.route(
        "**/api/cancel/reasons/",
        lambda route: route.fulfill(status=500, body="<h1>Server Error</h1>"),
    )
    page.goto(f"{live_server.url}/account/spa/")
    page.get_by_role("button", name="Cancel subscription").click()
    expect(alert(page)).to_have_text(
        "Something went wrong on our side. Please try again in a few minutes."
    )
    expect(page.get_by_role("link", name="Cancel your subscription")).to_be_visible()
    assert [e["name"] for e in events(page)] == ["error"]
    page.unroute("**/api/cancel/reasons/")
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("#gc-cancel-now")).to_be_visible()
    expect(alert(page)).to_have_text("")
    expect(page.get_by_role("link", name="Cancel your subscription")).to_be_hidden()


def test_isolated_from_the_page_and_styled_by_custom_properties(new_page, live_server, alice):
    page = new_page(alice)
    page.goto(f"{live_server.url}/")
    before = page.evaluate("Object.keys(window).sort()")
    sheets = page.evaluate("document.styleSheets.length")
    page.evaluate(
        "import('/static/django_graceful_cancel/graceful-cancel-flow.js')"
        ".then(() => customElements.whenDefined('graceful-cancel-flow'))"
    )
    # No globals, no stylesheet added to the page.
    assert page.evaluate("Object.keys(window).sort()") == before
    assert page.evaluate("document.styleSheets.length") == sheets
    # Made by a framework: created in script, attributes set, inserted, moved.
    page.add_style_tag(
        content=(
            "graceful-cancel-flow { --gc-accent: rgb(0, 128, 0); }"
            " button { background: rgb(255, 0, 0) !important; font-size: 40px !important; }"
        )
    )
    page.evaluate(
        """() => {
          const flow = document.createElement('graceful-cancel-flow');
          flow.setAttribute('api', '/api/cancel/');
          flow.setAttribute('language', 'en');
          const first = document.createElement('div');
          const second = document.createElement('div');
          document.querySelector('main').append(first, second);
          first.append(flow);
        }"""
    )
    expect(page.locator("#gc-continue")).to_be_visible()
    page.evaluate(
        "() => document.querySelector('main div:last-child').append("
        "document.querySelector('graceful-cancel-flow'))"
    )
    page.get_by_label("I no longer need it").check()
    page.evaluate(
        "() => document.querySelector('main div:first-of-type').append("
        "document.querySelector('graceful-cancel-flow'))"
    )
    # Moved twice in the page: still the same flow, with the answer kept.
    expect(page.get_by_label("I no longer need it")).to_be_checked()
    continue_button = page.locator("#gc-continue")
    assert continue_button.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 128, 0)"
    assert continue_button.evaluate("e => getComputedStyle(e).fontSize") != "40px"
    # The page's own buttons still get the page's rule: nothing leaked out either.
    assert (
        page.locator("header button").first.evaluate("e => getComputedStyle(e).backgroundColor")
        == "rgb(255, 0, 0)"
    )
    assert CancellationCase.objects.count() == 0


def test_the_dictionaries_have_the_same_words(new_page, live_server, alice):
    page = new_page(alice)
    page.goto(f"{live_server.url}/")
    keys = page.evaluate(
        """import('/static/django_graceful_cancel/graceful-cancel-flow.js').then(m => ({
          en: Object.keys(m.translations.en).sort(), es: Object.keys(m.translations.es).sort(),
          same: m.GracefulCancelFlow.translations === m.translations,
        }))"""
    )
    assert keys["en"] == keys["es"] and len(keys["en"]) > 30
    assert keys["same"]
