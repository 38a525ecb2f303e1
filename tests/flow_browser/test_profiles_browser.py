"""Each compliance profile walked end to end in a customer's Chromium, in the customer's language
(issue 16): Germany's cancellation button, France's three clicks, Minnesota's offer only after
the confirmation and only on request, and two customers on one site, placed in two jurisdictions
(a German billing address, a Minnesota request header), getting two different flows.

The statutory words are asserted exactly as the laws give them: "Verträge hier kündigen" then
"jetzt kündigen" (BGB § 312k(2)), "Résilier votre contrat" (Code de la consommation D215-1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from django_graceful_cancel.choices import CaseStatus, OfferOutcome
from django_graceful_cancel.models import CancellationCase, OfferPresentation
from tests.support import flow_settings
from tests.testapp.models import Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINNESOTA = {"CF-IPCountry": "US", "CF-Region-Code": "MN"}
SHOTS = Path("/tmp/shots/juris")


@pytest.fixture(autouse=True)
def _settings(settings: Any, catalogue: None) -> None:
    fields = settings.GRACEFUL_CANCEL.get("SUBSCRIPTION_FIELDS") or {}
    settings.GRACEFUL_CANCEL = flow_settings(
        # The billing country is the user's last name here (the model backend's country path);
        # the CDN's country and region headers come next.
        SUBSCRIPTION_FIELDS={**fields, "country": "user__last_name"},
        JURISDICTION_HEADER="CF-IPCountry",
        JURISDICTION_REGION_HEADER="CF-Region-Code",
    )


@pytest.fixture
def shots(shots: Path) -> Path:
    """This module's screenshots also go to /tmp/shots/juris (looked at by a person)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


class Clicks:
    """Counts the customer's clicks from the account page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def click(self, selector: str) -> None:
        self.count += 1
        self.page.click(selector)


def only_case(user: Any) -> CancellationCase:
    return CancellationCase.objects.get(customer=user)


def walk_de(page: Any, url: str, shots: Path, name: str) -> int:
    """Account page -> "Verträge hier kündigen" -> "jetzt kündigen"; returns the clicks."""
    clicks = Clicks(page)
    page.goto(f"{url}/account/")
    assert page.inner_text("#cancel-link") == "Verträge hier kündigen"
    page.screenshot(path=str(shots / f"{name}-account.png"), full_page=True)
    clicks.click("#cancel-link")
    page.wait_for_selector("#gc-cancel-now")
    assert page.inner_text("h1") == "Verträge hier kündigen"
    assert page.inner_text("#gc-cancel-now") == "jetzt kündigen"
    # The other button that sends the cancellation (with the optional answers) says the same.
    assert page.text_content("#gc-cancel-with-answers") == "jetzt kündigen"
    assert page.locator("#gc-continue").count() == 0  # no step, no offer before the button
    assert page.evaluate("document.documentElement.lang") == "de"
    page.screenshot(path=str(shots / f"{name}-confirm-page.png"), full_page=True)
    clicks.click("#gc-cancel-now")
    page.wait_for_selector(".gc-receipt")
    page.screenshot(path=str(shots / f"{name}-done.png"), full_page=True)
    return clicks.count


def test_de_cancellation_button_in_german(customer_browser, live_server, make_customer, shots):
    anna = make_customer("anna", last_name="DE")
    page = customer_browser(anna, time_zone="Europe/Berlin", locale="de-DE")
    assert walk_de(page, live_server.url, shots, "de") == 2
    case = only_case(anna)
    assert (case.status, case.compliance_profile) == (CaseStatus.CANCELLED, "de")
    assert (case.jurisdiction, case.jurisdiction_source) == ("DE", "billing")
    assert not OfferPresentation.objects.filter(case=case).exists()
    receipt = page.inner_text(".gc-receipt")
    assert case.reference in receipt
    assert "(MEZ)" in receipt or "(MESZ)" in receipt or "(CET)" in receipt  # dates say their zone
    assert page.locator("#gc-hear-offer").count() == 0  # no offer after it either


def test_fr_confirmed_in_three_clicks_in_french(
    customer_browser, live_server, make_customer, shots
):
    claire = make_customer("claire")
    page = customer_browser(claire, time_zone="Europe/Paris", locale="fr-FR")
    page.set_extra_http_headers({"CF-IPCountry": "FR"})
    clicks = Clicks(page)
    page.goto(f"{live_server.url}/account/")
    assert page.inner_text("#cancel-link") == "Résilier votre contrat"
    clicks.click("#cancel-link")
    page.wait_for_selector("#gc-cancel-now")
    assert page.inner_text("h1") == "Résilier votre contrat"
    assert page.inner_text("#gc-cancel-now") == "Résilier maintenant"
    assert page.locator("#gc-continue").count() == 0
    page.screenshot(path=str(shots / "fr-confirm-page.png"), full_page=True)
    clicks.click("#gc-cancel-now")
    page.wait_for_selector(".gc-receipt")
    page.screenshot(path=str(shots / "fr-done.png"), full_page=True)
    assert clicks.count <= 3
    case = only_case(claire)
    assert (case.status, case.compliance_profile, case.jurisdiction) == ("cancelled", "fr", "FR")
    assert case.jurisdiction_source == "header"
    assert not OfferPresentation.objects.filter(case=case).exists()
    assert page.evaluate("document.documentElement.lang") == "fr"


def walk_us_mn(page: Any, url: str, shots: Path, name: str) -> None:
    """The us-mn flow: cancel (with a reason, optional), then asked, then the offer on yes."""
    page.goto(f"{url}/account/")
    assert page.inner_text("#cancel-link") == "Cancel your subscription"
    page.click("#cancel-link")
    page.wait_for_selector("#gc-cancel-now")
    assert page.locator("#gc-continue").count() == 0
    assert page.locator(".gc-offer").count() == 0
    page.click("details.gc-survey summary")
    page.screenshot(path=str(shots / f"{name}-survey-open.png"), full_page=True)
    page.check("input[name=reason][value=price]")
    page.screenshot(path=str(shots / f"{name}-start.png"), full_page=True)
    page.click("#gc-cancel-with-answers")
    page.wait_for_selector(".gc-receipt")
    # Confirmed, and nothing offered: only the question, with "no" as easy as "yes".
    assert page.locator("#gc-accept").count() == 0
    assert page.inner_text("#gc-offer-question-title") == "Would you like to hear an offer?"
    yes, no = page.locator("#gc-hear-offer"), page.locator("#gc-no-offer")
    assert yes.bounding_box()["height"] == no.bounding_box()["height"]
    assert "gc-button-choice" in (yes.get_attribute("class") or "")
    assert (yes.get_attribute("class") or "") == (no.get_attribute("class") or "")
    page.screenshot(path=str(shots / f"{name}-done-question.png"), full_page=True)


def test_us_mn_no_offer_before_the_confirmation(
    customer_browser, live_server, make_customer, shots
):
    mia = make_customer("mia")
    page = customer_browser(mia, time_zone="America/Chicago", locale="en-US")
    page.set_extra_http_headers(MINNESOTA)
    walk_us_mn(page, live_server.url, shots, "us-mn")
    case = only_case(mia)
    assert (case.status, case.compliance_profile, case.jurisdiction) == (
        "cancelled",
        "us-mn",
        "US-MN",
    )
    assert not OfferPresentation.objects.filter(case=case).exists()  # nothing until "yes"
    page.click("#gc-hear-offer")
    page.wait_for_selector("#gc-accept")
    assert page.locator("#gc-decline").count() == 1
    page.screenshot(path=str(shots / "us-mn-offer-after-yes.png"), full_page=True)
    assert OfferPresentation.objects.get(case=case).outcome == OfferOutcome.PRESENTED
    page_offer_title = page.inner_text("#gc-offer-title")
    page.click("#gc-accept")
    page.wait_for_url(f"**/{case.reference}/reactivate/")
    # What the offer does and who applies it, not just "welcome back".
    assert page.inner_text("h1") == "Thank you for staying"
    assert page.inner_text("#gc-saved-title") == page_offer_title
    page.screenshot(path=str(shots / "us-mn-reactivated.png"), full_page=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    assert OfferPresentation.objects.get(case=case).outcome == OfferOutcome.ACCEPTED
    assert Subscription.objects.get(user=mia).cancel_at_period_end is False


def test_us_mn_no_thank_you_changes_nothing(customer_browser, live_server, make_customer, shots):
    noah = make_customer("noah")
    page = customer_browser(noah, time_zone="America/Chicago", locale="en-US")
    page.set_extra_http_headers(MINNESOTA)
    walk_us_mn(page, live_server.url, shots, "us-mn-no")
    page.click("#gc-no-offer")
    page.wait_for_selector(".gc-receipt")
    assert page.locator("#gc-hear-offer").count() == 0 and page.locator("#gc-accept").count() == 0
    case = only_case(noah)
    assert case.status == CaseStatus.CANCELLED
    assert not OfferPresentation.objects.filter(case=case).exists()


def test_two_customers_two_jurisdictions_two_flows_on_one_site(
    customer_browser, live_server, make_customer, shots
):
    """Anna's billing address is in Germany; Mia's request comes from Minnesota. Same site, same
    settings, each gets the flow of her own law, in her own language."""
    anna = make_customer("anna", last_name="DE")
    mia = make_customer("mia")
    anna_page = customer_browser(anna, time_zone="Europe/Berlin", locale="de-DE")
    mia_page = customer_browser(mia, time_zone="America/Chicago", locale="en-US")
    mia_page.set_extra_http_headers(MINNESOTA)
    # Interleaved: both customers are on their first page before either confirms.
    anna_page.goto(f"{live_server.url}/account/cancel/")
    mia_page.goto(f"{live_server.url}/account/cancel/")
    assert anna_page.inner_text("#gc-cancel-now") == "jetzt kündigen"
    assert mia_page.inner_text("#gc-cancel-now") == "Cancel my subscription"
    assert walk_de(anna_page, live_server.url, shots, "switch-de") == 2
    walk_us_mn(mia_page, live_server.url, shots, "switch-us-mn")
    anna_case, mia_case = only_case(anna), only_case(mia)
    assert (anna_case.compliance_profile, anna_case.jurisdiction, anna_case.language) == (
        "de",
        "DE",
        "de",
    )
    assert (mia_case.compliance_profile, mia_case.jurisdiction, mia_case.language) == (
        "us-mn",
        "US-MN",
        "en",
    )
    assert anna_page.locator("#gc-hear-offer").count() == 0
    assert mia_page.locator("#gc-hear-offer").count() == 1
