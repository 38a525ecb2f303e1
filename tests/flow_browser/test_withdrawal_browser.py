"""The German withdrawal function in a customer's browser (issue 16): within the withdrawal
period "Vertrag widerrufen" leads to one page and "Widerruf bestätigen" to the acknowledgement;
after it the function is gone and the page points to the normal cancellation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from django_graceful_cancel.choices import CaseStatus, WithdrawalStatus
from django_graceful_cancel.models import CancellationCase, Withdrawal
from tests.support import flow_settings
from tests.testapp.models import Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BERLIN_ZONE = re.compile(r"\((MEZ|MESZ|CET|CEST)\)")


@pytest.fixture(autouse=True)
def _de(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="de")


def test_de_withdrawal_within_the_period(
    customer_browser, live_server, make_customer, catalogue, shots
):
    customer = make_customer("lena", tenure_days=3)
    page = customer_browser(customer, time_zone="Europe/Berlin", locale="de-DE")
    page.goto(f"{live_server.url}/account/")
    link = page.locator("#gc-withdrawal-link")
    assert link.inner_text() == "Vertrag widerrufen"
    page.screenshot(path=str(shots / "de-account-with-withdrawal-link.png"), full_page=True)
    link.click()

    page.wait_for_selector("#gc-confirm-withdrawal")
    assert page.inner_text("h1") == "Widerruf Ihres Vertrags"
    # One page: name, contract and the acknowledgement's address, prefilled; nothing else.
    names = page.eval_on_selector_all(
        "form.gc-withdrawal [name]:not([type=hidden])", "els => els.map(e => e.name)"
    )
    assert names == ["name", "subscription", "email"]
    assert page.input_value("#id_name") == "Lena"
    assert page.input_value("#id_email") == "lena@example.com"
    assert "Standard" in page.inner_text("#id_subscription")
    assert page.inner_text("#gc-confirm-withdrawal") == "Widerruf bestätigen"
    assert "Angebot" not in page.inner_text(".gc")  # no offer anywhere on the page
    page.screenshot(path=str(shots / "de-withdrawal-form.png"), full_page=True)
    page.fill("#id_name", "Lena Berger")
    page.click("#gc-confirm-withdrawal")

    page.wait_for_selector(".gc-receipt")
    assert page.inner_text("h1") == "Wir haben Ihren Widerruf erhalten"
    received = page.inner_text("#gc-received-at")
    assert BERLIN_ZONE.search(received), received
    page.screenshot(path=str(shots / "de-withdrawal-acknowledgement.png"), full_page=True)

    withdrawal = Withdrawal.objects.get()
    assert withdrawal.status == WithdrawalStatus.WITHDRAWN
    assert withdrawal.name == "Lena Berger"
    assert withdrawal.time_zone == "Europe/Berlin"
    assert withdrawal.reference in page.inner_text(".gc-receipt")
    assert CancellationCase.objects.get(customer=customer).status == CaseStatus.WITHDRAWN
    assert Subscription.objects.get(user=customer).status == "canceled"
    [message] = mail.outbox
    assert message.to == ["lena@example.com"]
    assert message.subject == f"Wir haben Ihren Widerruf erhalten ({withdrawal.reference})"
    assert BERLIN_ZONE.search(message.body)

    # Back on the account page the function is gone: the contract is withdrawn.
    page.goto(f"{live_server.url}/account/")
    assert page.locator("#gc-withdrawal-link").count() == 0


def test_de_withdrawal_after_the_period(
    customer_browser, live_server, make_customer, catalogue, shots
):
    customer = make_customer("max", tenure_days=20)
    page = customer_browser(customer, time_zone="Europe/Berlin", locale="de-DE")
    page.goto(f"{live_server.url}/account/")
    assert page.locator("#gc-withdrawal-link").count() == 0
    assert "Vertrag widerrufen" not in page.content()

    # Someone who kept the address finds out why, and where cancelling still works.
    page.goto(f"{live_server.url}/account/cancel/withdraw/")
    assert page.inner_text("h1") == "Die Widerrufsfrist ist abgelaufen"
    text = page.inner_text(".gc-withdrawal-closed")
    assert "nicht mehr möglich" in text
    assert BERLIN_ZONE.search(text) or "(UTC)" in text  # the date says its zone
    assert page.locator("#gc-confirm-withdrawal").count() == 0
    page.screenshot(path=str(shots / "de-withdrawal-period-over.png"), full_page=True)
    page.click("#gc-to-cancellation")
    page.wait_for_url(re.compile(r"/account/cancel/$"))
    assert not Withdrawal.objects.exists()
    assert Subscription.objects.get(user=customer).status == "active"
