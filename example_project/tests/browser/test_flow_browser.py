"""The customer's flow in a real browser (Chromium through Playwright)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import mail

from django_graceful_cancel.choices import CaseStatus, DeclarationStatus, OfferOutcome
from django_graceful_cancel.models import CancellationCase, CancellationDeclaration
from tests.support import flow_settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("inline_confirmations"),
]


def heading(page: Any) -> str:
    return page.locator("h1").inner_text().strip()


def test_cancel_without_a_reason_in_at_most_three_clicks(new_page, live_server, alice, shoot):
    page = new_page(alice)
    page.goto(f"{live_server.url}/account/")
    clicks = 0
    page.get_by_role("link", name="Cancel subscription").click()
    clicks += 1
    assert heading(page) == "Cancel your subscription"
    cancel = page.locator("#gc-cancel-now")
    assert cancel.is_visible()
    # "Plainly visible": on screen without scrolling, at both widths.
    assert cancel.bounding_box()["y"] + cancel.bounding_box()["height"] <= 900
    shoot(page, "flow-start")
    page.set_viewport_size({"width": 390, "height": 844})
    assert cancel.bounding_box()["y"] + cancel.bounding_box()["height"] <= 844
    page.set_viewport_size({"width": 1280, "height": 900})
    cancel.click()
    clicks += 1
    assert heading(page) == "Your subscription is cancelled"
    assert clicks <= 3
    case = CancellationCase.objects.get(customer=alice)
    assert case.status == CaseStatus.CANCELLED and case.reason is None
    assert case.reference in page.locator(".gc-receipt").inner_text()
    shoot(page, "flow-done")


def test_price_discount_accept_saved(new_page, live_server, alice, shoot):
    page = new_page(alice)
    page.goto(f"{live_server.url}/account/cancel/")
    page.get_by_label("It costs too much for what I get").check()
    page.get_by_role("button", name="Continue").click()
    assert heading(page) == "Before you go"
    assert "Price matters" in page.locator(".gc-message").inner_text()
    accept, decline = page.locator("#gc-accept"), page.locator("#gc-decline")
    # The way out is exactly as visible as the way to stay.
    a, d = accept.bounding_box(), decline.bounding_box()
    assert a["height"] == d["height"] and abs(a["width"] - d["width"]) <= 1
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color, getComputedStyle(e).fontSize]"
    assert accept.evaluate(style) == decline.evaluate(style)
    page.set_viewport_size({"width": 390, "height": 844})
    a, d = accept.bounding_box(), decline.bounding_box()
    assert a["height"] == d["height"] and abs(a["width"] - d["width"]) <= 1
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, "flow-offer")
    accept.click()
    assert heading(page) == "Thank you for staying"
    assert "30% less for the next 3 months" in page.content()
    case = CancellationCase.objects.get(customer=alice)
    assert case.status == CaseStatus.SAVED
    shoot(page, "flow-saved")


def test_price_decline_cancels_with_the_email(new_page, live_server, alice):
    page = new_page(alice)
    page.goto(f"{live_server.url}/account/cancel/")
    page.get_by_label("It costs too much for what I get").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="No thanks, cancel my subscription").click()
    assert heading(page) == "Your subscription is cancelled"
    case = CancellationCase.objects.get(customer=alice)
    assert case.status == CaseStatus.CANCELLED
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert case.reference in mail.outbox[0].subject
    # One click back: reactivation from the confirmation.
    page.get_by_role("button", name="Reactivate my subscription").click()
    assert heading(page) == "Welcome back"
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED


def test_spanish_flow_end_to_end(new_page, live_server, alice):
    page = new_page(alice, locale="es-ES")
    page.goto(f"{live_server.url}/account/")
    page.get_by_role("link", name="Cancelar suscripción").click()
    assert heading(page) == "Cancela tu suscripción"
    page.get_by_label("Cuesta demasiado para lo que recibo").check()
    page.get_by_role("button", name="Continuar").click()
    assert heading(page) == "Antes de irte"
    assert "30 % de descuento" in page.locator(".gc-offer").inner_text()
    page.get_by_role("button", name="No, gracias, cancelar mi suscripción").click()
    assert heading(page) == "Tu suscripción está cancelada"
    case = CancellationCase.objects.get(customer=alice)
    assert case.language == "es"
    assert "Referencia" in mail.outbox[0].body
    assert "cancelación" in mail.outbox[0].subject


def _tab_to(page: Any, selector: str, limit: int = 60) -> None:
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            # A visible focus indicator on what the keyboard reached.
            outline = target.evaluate("e => getComputedStyle(e).outlineStyle")
            assert outline not in ("", "none"), f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only(new_page, live_server, alice):
    page = new_page(alice)
    page.goto(f"{live_server.url}/account/")
    _tab_to(page, "#cancel-subscription")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/account/cancel/$"))
    # Choose a reason with the keyboard: Tab into the radio group, arrows move the choice.
    _tab_to(page, 'input[name="reason"] >> nth=0')
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    assert page.locator('input[name="reason"]:checked').get_attribute("value") == "quality"
    _tab_to(page, "#gc-continue")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/account/cancel/GC-[^/]+/$"))
    _tab_to(page, "#gc-decline")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/done/$"))
    assert heading(page) == "Your subscription is cancelled"
    case = CancellationCase.objects.get(customer=alice)
    assert (case.status, case.reason.slug) == (CaseStatus.CANCELLED, "quality")


def test_eu_declaration_without_login(new_page, live_server, alice, settings, shoot):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu")
    page = new_page()  # nobody logged in
    page.goto(f"{live_server.url}/account/cancel/declare/")
    assert heading(page) == "Cancel contracts here"
    page.get_by_label("Your name").fill("Alice Example")
    page.get_by_label("Your email address").fill("alice@example.com")
    page.get_by_label("Which subscription").fill("Standard")
    shoot(page, "flow-declaration")
    page.get_by_role("button", name="Cancel now").click()
    assert heading(page) == "We have received your cancellation"
    declaration = processed_declaration()
    assert declaration.status == DeclarationStatus.MATCHED
    text = page.locator(".gc-receipt").inner_text()
    assert declaration.reference in text and "Received on" in text
    # The page shows what was typed, never what the account holds (issue 14).
    assert "Takes effect" not in text
    shoot(page, "flow-declaration-received")
    assert declaration.case.status == CaseStatus.CANCELLED
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert declaration.dispute_path in mail.outbox[0].body


def processed_declaration() -> Any:
    """The declaration, once the server has processed and acknowledged it (right after its
    answer went out)."""
    for _ in range(100):
        declaration = CancellationDeclaration.objects.select_related("case").get()
        if declaration.status != DeclarationStatus.RECEIVED and mail.outbox:
            return declaration
        time.sleep(0.05)
    raise AssertionError("the declaration was not processed")


def test_eu_extraordinary_termination_waits_for_the_account_holder(
    new_page, live_server, alice, settings, shoot
):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu", SITE_URL=live_server.url)
    page = new_page()
    page.goto(f"{live_server.url}/account/cancel/declare/")
    page.get_by_label("Your name").fill("Alice Example")
    page.get_by_label("Your email address").fill("alice@example.com")
    page.get_by_label("Extraordinary termination (for cause)").check()
    page.get_by_label("Reason for an extraordinary termination").fill("The service stopped")
    page.get_by_role("button", name="Cancel now").click()
    assert heading(page) == "We have received your cancellation"
    assert "link we send to the email address of your account" in page.inner_text(".gc-receipt")
    declaration = processed_declaration()
    assert declaration.status == DeclarationStatus.PENDING and declaration.case is None
    # Alice opens the link from her own mailbox.
    [message] = mail.outbox
    link = next(line for line in message.body.splitlines() if "/declare/confirm/" in line)
    page.goto(link)
    assert heading(page) == "Confirm your cancellation"
    shoot(page, "flow-declaration-confirm")
    page.get_by_role("button", name="End my subscription now").click()
    assert heading(page) == "Your subscription is cancelled"
    assert "Your cancellation is confirmed" in page.locator(".gc-card").inner_text()
    shoot(page, "flow-declaration-confirmed")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.MATCHED
    assert declaration.case.status == CaseStatus.CANCELLED
    assert declaration.case.effective_mode == "immediately"
