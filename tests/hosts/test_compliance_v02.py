"""0.2's compliance that follows the customer (issue 16), in host sites that are not the example.

* The Weekly Reader's German edition (``magazine/settings_de.py``: the billing address Stripe
  keeps for each reader, the CDN's country header, German, Berlin time): a reader billed in
  Germany sees the section 312k words on the magazine's own account page, and, during the 14
  days after the subscription's start, the withdrawal function ("Vertrag widerrufen"), inside
  the magazine's base template; withdrawing ends the magazine's row at once; after the period
  the link is gone and the page says so. A reader of the same site with no German address and
  no header keeps the ``us`` flow.
* Ledgerly (plans and prices in two tables) behind a CDN that sets the country and region
  headers: a customer from Minnesota is offered nothing before the cancellation is confirmed,
  is then asked whether they want to hear an offer, and a "yes" then "accept" reactivates the
  subscription with Ledgerly's own discount hook.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from django_graceful_cancel.choices import CaseStatus, WithdrawalStatus
from django_graceful_cancel.models import CancellationCase, OfferPresentation, Withdrawal
from tests.hosts.magazine import settings_de
from tests.hosts.magazine.billing import roll_over
from tests.hosts.magazine.models import Subscription as Reading
from tests.hosts.saas.models import Subscription as Workspace
from tests.hosts.sites import (
    SITES,
    Customer,
    case_of,
    form_action,
    link_href,
    prepare_catalogue,
    serving,
)

# Every test starts on a Monday at noon (conftest.py), the clock ticking.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("noon")]

#: Berlin's zone as the German catalogue names it on the pages (or its international name).
BERLIN_ZONE = re.compile(r"\((MEZ|MESZ|CET|CEST)\)")


def input_value(html: str, name: str) -> str:
    """The value of the input called ``name`` (the page's prefill), or ""."""
    tag = re.search(rf'<input\b[^>]*\bname="{name}"[^>]*>', html)
    assert tag, f"no {name!r} input on the page:\n{html}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def selected_value(html: str, name: str) -> str:
    select = re.search(rf'<select\b[^>]*\bname="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no {name!r} select on the page:\n{html}"
    option = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    assert option, select.group(0)
    return unescape(option.group(1))


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)\b[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no #{element_id} on the page"
    return " ".join(re.sub(r"<[^>]+>", "", unescape(found.group(2))).split())


# --- The Weekly Reader, German edition --------------------------------------------------------


@pytest.fixture
def edition(catalogue: Any) -> Iterator[Any]:
    """The magazine with its German edition's settings (and its language and clock)."""
    edition = override_settings(GRACEFUL_CANCEL=settings_de.GRACEFUL_CANCEL, **settings_de.DJANGO)
    with serving("magazine") as site, edition:
        prepare_catalogue(site)
        yield site


@pytest.fixture
def leser(edition: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """``leser(user, **headers)``: a reader whose browser asks for German, walking the pages."""

    def make(user: Any, language: str = "de-DE,de;q=0.9", **headers: str) -> Customer:
        client = Client(headers={"Accept-Language": language, **headers})
        return Customer(client, user, edition, django_capture_on_commit_callbacks)

    return make


def test_a_german_reader_sees_the_statutory_words_and_withdraws_inside_the_magazine(edition, leser):
    # Subscribed three days ago, billed to a German address (Stripe's customer.address).
    user = edition.make_customer("jonas", days_subscribed=3, days_left=27, country="DE")
    jonas = leser(user)
    account = jonas.account()
    assert 'lang="de"' in account and 'data-host="magazine"' in account
    assert text_of(account, "cancel-link") == "Verträge hier kündigen"
    assert text_of(account, "gc-withdrawal-link") == "Vertrag widerrufen"

    page = jonas.get(link_href(account, "gc-withdrawal-link"))
    assert jonas.step == "withdraw"
    # Inside the magazine's own layout and stylesheet, with the app's stylesheet once.
    assert 'data-host="magazine"' in page and "masthead" in page and "magazine/site.css" in page
    assert page.count("django_graceful_cancel/flow.css") == 1
    assert text_of(page, "gc-confirm-withdrawal") == "Widerruf bestätigen"
    # Only the name, the contract and the address for the acknowledgement: no reason, no offer.
    asked = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([a-z_]+)"', page)
    fields = set(asked) - {"csrfmiddlewaretoken", "time_zone"}
    assert fields == {"name", "subscription", "email"}
    assert "gc-offer" not in page and 'name="reason"' not in page
    assert BERLIN_ZONE.search(page), "the last day of the period must name its time zone"

    reading = Reading.objects.get(customer=user)
    data = {
        "name": input_value(page, "name"),
        "email": input_value(page, "email"),
        "subscription": selected_value(page, "subscription"),
    }
    assert data == {
        "name": "Jonas",
        "email": "jonas@example.com",
        "subscription": f"magazine.subscription:{reading.pk}",
    }
    receipt = jonas.post(form_action(page, "gc-confirm-withdrawal"), data)
    assert jonas.step == "withdrawal_received"
    assert 'data-host="magazine"' in receipt and "magazine/site.css" in receipt

    withdrawal = Withdrawal.objects.get(customer=user)
    assert withdrawal.status == WithdrawalStatus.WITHDRAWN
    assert withdrawal.compliance_profile == "de"
    assert withdrawal.reference in receipt
    assert BERLIN_ZONE.search(text_of(receipt, "gc-received-at"))
    case = case_of(user)
    assert case.status == CaseStatus.WITHDRAWN and case.cancelled_at is None
    assert (case.jurisdiction, case.jurisdiction_source) == ("DE", "billing")
    # Ended at once in the magazine's own row (not at the period end), so nothing is invoiced.
    reading.refresh_from_db()
    assert reading.status == Reading.Status.CANCELED
    assert roll_over(reading.current_period_end + timedelta(hours=1)) == []
    # The acknowledgement on a durable medium, in German, with its date's time zone.
    (ack,) = [m for m in mail.outbox if withdrawal.reference in m.body]
    assert ack.to == ["jonas@example.com"]
    assert "Widerruf" in ack.subject + ack.body and BERLIN_ZONE.search(ack.body)

    # Nothing left to withdraw from: the account page no longer shows the function.
    assert "gc-withdrawal-link" not in jonas.account()


def test_the_withdrawal_link_is_there_until_the_last_day_ends_in_berlin(
    edition, leser, time_machine
):
    # Subscribed on Friday 27 February at 13:00 Berlin time: the period's last day is 13 March.
    user = edition.make_customer("mira", days_subscribed=3, days_left=27, country="DE")
    mira = leser(user)
    time_machine.move_to("2026-03-13T22:30:00+00:00", tick=False)  # 23:30 in Berlin
    assert text_of(mira.account(), "gc-withdrawal-link") == "Vertrag widerrufen"

    time_machine.move_to("2026-03-13T23:00:01+00:00", tick=False)  # 14 March, 00:00:01 Berlin
    account = mira.account()
    assert "gc-withdrawal-link" not in account
    assert text_of(account, "cancel-link") == "Verträge hier kündigen"  # cancelling stays
    # The page itself says the period ended (with the zone) and leads to the cancellation.
    closed = mira.get(reverse("graceful_cancel:withdraw"))
    assert 'data-host="magazine"' in closed
    assert BERLIN_ZONE.search(closed) and 'id="gc-confirm-withdrawal"' not in closed
    assert link_href(closed, "gc-to-cancellation") == reverse("graceful_cancel:start")
    with pytest.raises(AssertionError):  # the POST is refused as well (a field error, no 500)
        mira.post(
            reverse("graceful_cancel:withdraw"),
            {"name": "Mira", "email": "mira@example.com", "subscription": "x"},
        )
    assert not Withdrawal.objects.exists()
    assert Reading.objects.get(customer=user).status == Reading.Status.ACTIVE


def test_after_the_period_a_german_reader_cancels_with_the_statutory_button(edition, leser):
    user = edition.make_customer("greta", days_subscribed=40, country="DE")
    greta = leser(user)
    account = greta.account()
    assert "gc-withdrawal-link" not in account
    page = greta.get(link_href(account, "cancel-link"))
    assert text_of(page, "gc-cancel-now") == "jetzt kündigen"
    assert "<h1" in page and "Verträge hier kündigen" in page.split("<h1", 1)[1].split("</h1>")[0]
    assert 'id="gc-continue"' not in page and 'id="gc-accept"' not in page  # nothing offered
    done = greta.post(form_action(page, "gc-cancel-now"), {"action": "cancel"})
    assert greta.step == "done" and 'data-host="magazine"' in done
    case = case_of(user)
    assert (case.status, case.compliance_profile, case.jurisdiction) == ("cancelled", "de", "DE")
    assert not OfferPresentation.objects.filter(case=case).exists()
    reading = Reading.objects.get(customer=user)
    assert (reading.status, reading.cancel_at_period_end) == ("active", True)
    assert 'id="gc-hear-offer"' not in done  # no offer after it either


def test_one_edition_two_readers_two_laws(edition, leser):
    """Same settings: the header places a reader with no address on file; a reader with neither
    keeps the site's fallback (``us``) and gets no withdrawal function."""
    visitor = edition.make_customer("lukas", days_subscribed=2)
    lukas = leser(visitor, **{"CF-IPCountry": "DE"})
    account = lukas.account()
    assert text_of(account, "cancel-link") == "Verträge hier kündigen"
    assert text_of(account, "gc-withdrawal-link") == "Vertrag widerrufen"

    american = edition.make_customer("amy", days_subscribed=2)
    amy = leser(american, language="en-US")
    account = amy.account()
    assert text_of(account, "cancel-link") == "Cancel your subscription"
    assert "gc-withdrawal-link" not in account
    assert amy.client.get(reverse("graceful_cancel:withdraw")).status_code == 404

    lukas.get(link_href(lukas.account(), "cancel-link"))
    lukas.post(form_action(lukas.page, "gc-cancel-now"), {"action": "cancel"})
    assert (case_of(visitor).compliance_profile, case_of(visitor).jurisdiction_source) == (
        "de",
        "header",
    )


# --- Ledgerly, a customer from Minnesota ------------------------------------------------------

#: What Ledgerly's CDN adds to each request from Minneapolis.
MINNESOTA = {"CF-IPCountry": "US", "CF-Region-Code": "MN"}


@pytest.fixture
def ledgerly(catalogue: Any) -> Iterator[Any]:
    with serving("saas") as site:
        config = {
            **site.graceful_cancel,
            "JURISDICTION_HEADER": "CF-IPCountry",
            "JURISDICTION_REGION_HEADER": "CF-Region-Code",
        }
        with override_settings(GRACEFUL_CANCEL=config):
            prepare_catalogue(site)
            yield site


def test_minnesota_no_offer_before_the_confirmation_then_asked_and_a_yes_reactivates(
    ledgerly, django_capture_on_commit_callbacks
):
    user = ledgerly.make_customer("maya")
    maya = Customer(
        Client(headers=MINNESOTA), user, SITES["saas"], django_capture_on_commit_callbacks
    )
    start = maya.open_flow()
    assert 'data-host="saas"' in start
    # No offer and no step before the button: the reason is an optional extra of the same page.
    assert 'id="gc-continue"' not in start and 'id="gc-accept"' not in start
    assert "30% off" not in start and "Switch to Starter" not in start
    done = maya.post(
        form_action(start, "gc-cancel-with-answers"),
        {"action": "cancel", "reason": "price", "contact_consent": "on"},
    )
    assert maya.step == "done" and 'data-host="saas"' in done
    case = case_of(user)
    assert (case.status, case.compliance_profile, case.jurisdiction) == (
        CaseStatus.CANCELLED,
        "us-mn",
        "US-MN",
    )
    assert case.jurisdiction_source == "header"
    assert not OfferPresentation.objects.filter(case=case).exists()  # nothing shown yet
    workspace = Workspace.objects.get(owner=user)
    assert workspace.auto_renew is False
    # Only now the question, with "no" as easy as "yes".
    assert text_of(done, "gc-offer-question-title") == "Would you like to hear an offer?"
    assert 'id="gc-hear-offer"' in done and 'id="gc-no-offer"' in done

    offer = maya.post(form_action(done, "gc-hear-offer"), {"answer": "yes"})
    assert "30% off" in offer and 'id="gc-accept"' in offer and 'id="gc-decline"' in offer
    maya.post(form_action(offer, "gc-accept"))
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    workspace.refresh_from_db()
    # Renewing again, with Ledgerly's own hook's coupon on it.
    assert (workspace.auto_renew, workspace.discount_percent) == (True, 30)


def test_minnesota_no_thank_you_keeps_the_cancellation(
    ledgerly, django_capture_on_commit_callbacks
):
    user = ledgerly.make_customer("nils")
    nils = Customer(
        Client(headers=MINNESOTA), user, SITES["saas"], django_capture_on_commit_callbacks
    )
    start = nils.open_flow()
    done = nils.post(
        form_action(start, "gc-cancel-with-answers"), {"action": "cancel", "reason": "price"}
    )
    after = nils.post(form_action(done, "gc-no-offer"), {"answer": "no"})
    assert 'id="gc-hear-offer"' not in after and 'id="gc-accept"' not in after
    case = CancellationCase.objects.get(customer=user)
    assert case.status == CaseStatus.CANCELLED
    assert not OfferPresentation.objects.filter(case=case).exists()
    assert Workspace.objects.get(owner=user).auto_renew is False


def test_the_same_ledgerly_customer_elsewhere_in_the_us_sees_the_offer_first(
    ledgerly, django_capture_on_commit_callbacks
):
    user = ledgerly.make_customer("tex")
    tex = Customer(
        Client(headers={"CF-IPCountry": "US", "CF-Region-Code": "TX"}),
        user,
        SITES["saas"],
        django_capture_on_commit_callbacks,
    )
    offer = tex.give_reason("price")
    assert tex.step == "offer" and "30% off" in offer
    assert case_of(user).compliance_profile == "us"
