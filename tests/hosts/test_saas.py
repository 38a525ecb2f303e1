"""Ledgerly (plans in one table, prices in another): the whole flow through its pages.

Each test serves Ledgerly (its URLconf and its GRACEFUL_CANCEL block, ``sites.serving``), walks
the pages as a workspace owner and asserts what changed in Ledgerly's own ``Subscription`` rows
(and that its ``Plan`` and ``Price`` rows, shared by every customer, did not), what its renewal
job then does, and the mail.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from django_graceful_cancel.choices import CaseStatus
from tests.hosts.saas.billing import renew
from tests.hosts.saas.models import Invoice, Price, Subscription
from tests.hosts.sites import (
    SITES,
    case_of,
    form_action,
    prepare_catalogue,
    send_followups,
    sent_stages,
    serving,
    shows_date,
)

# Every test starts on a Monday at noon (conftest.py), the clock ticking.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("noon")]


@pytest.fixture(autouse=True)
def ledgerly(catalogue: Any) -> Any:
    with serving("saas") as site:
        prepare_catalogue(site)
        yield site


@pytest.fixture
def prices(ledgerly: Any) -> dict[tuple[str, str], Price]:
    return ledgerly.data.prices()


@pytest.fixture
def make_owner(ledgerly: Any) -> Any:
    return ledgerly.make_customer  # Team, monthly unless told, renews in 20 days


@pytest.fixture
def owner(make_owner: Any) -> Any:
    return make_owner("priya")


def current(user: Any) -> Subscription:
    return (
        Subscription.objects.select_related("plan", "price").exclude(state="ended").get(owner=user)
    )


def price_table() -> list[tuple[int, str, str, str, Decimal]]:
    return sorted(Price.objects.values_list("pk", "plan__code", "interval", "currency", "amount"))


def test_the_flow_opens_from_the_billing_page_inside_the_apps_layout(owner, walk):
    priya = walk(owner, "saas")
    page = priya.open_flow()
    assert 'data-host="saas"' in page and "app-sidebar" in page
    assert "saas/app.css" in page and "django_graceful_cancel/flow.css" in page
    assert "Team · 29.00 GBP" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "Ledgerly" not in title  # the flow's own title fills the site's "title" block


def test_an_ended_subscription_of_the_past_is_left_alone(owner, prices, walk):
    old = Subscription.objects.create(
        owner=owner,
        plan=prices["business", "month"].plan,
        price=prices["business", "month"],
        state="ended",
        renews_at=timezone.now() - timedelta(days=300),
        auto_renew=False,
    )
    priya = walk(owner, "saas")
    priya.give_reason("competitor")
    priya.decline_offer()
    assert current(owner).auto_renew is False
    old.refresh_from_db()
    assert (old.state, old.canceled_on) == ("ended", None)


def test_a_pause_accepted_moves_the_renewal_date(owner, walk):
    before = current(owner)
    priya = walk(owner, "saas")
    assert "Pause for 2 months" in priya.give_reason("temporary")
    priya.accept_offer()
    assert priya.step == "saved"

    after = current(owner)
    assert after.renews_at == before.renews_at + timedelta(days=60)
    assert (after.state, after.auto_renew, after.price) == ("active", True, before.price)
    assert case_of(owner).status == CaseStatus.SAVED
    assert mail.outbox == []


@pytest.mark.parametrize("interval", ["month", "year"])
def test_a_downgrade_accepted_moves_to_the_cheaper_plans_price_for_the_same_interval(
    interval, make_owner, prices, walk
):
    user = make_owner("kofi", interval=interval)
    table = price_table()
    kofi = walk(user, "saas")
    assert "Switch to Starter" in kofi.give_reason("competitor")
    saved = kofi.accept_offer()

    after = current(user)
    assert after.plan.code == "starter"
    # What the next renewal charges: Starter's price for the same interval and currency.
    assert after.price == prices["starter", interval]
    assert (after.state, after.auto_renew) == ("active", True)
    assert "You are now on the Starter plan" in saved
    # The price list every customer shares is untouched.
    assert price_table() == table
    (invoice,) = renew(now=after.renews_at)
    assert (invoice.price, invoice.amount) == (
        prices["starter", interval],
        prices["starter", interval].amount,
    )


def test_a_discount_accepted_is_granted_by_ledgerlys_hook_on_the_next_three_invoices(owner, walk):
    priya = walk(owner, "saas")
    assert "30% off for the next 3 months" in priya.give_reason("price")
    priya.accept_offer()
    assert priya.step == "saved"

    after = current(owner)
    assert after.discount_percent == 30 and after.discount_until > after.renews_at
    assert (after.auto_renew, after.price.amount) == (True, Decimal("29.00"))
    assert case_of(owner).status == CaseStatus.SAVED
    due = after.renews_at
    amounts = [
        invoice.amount
        for days in (0, 30, 60, 90)
        for invoice in renew(now=due + timedelta(days=days, minutes=1))
    ]
    assert amounts == [Decimal("20.30")] * 3 + [Decimal("29.00")]


def test_an_offer_declined_stops_auto_renewal_and_keeps_the_paid_period(owner, walk):
    before = current(owner)
    priya = walk(owner, "saas")
    priya.give_reason("competitor")
    priya.decline_offer()
    assert priya.step == "done"

    after = current(owner)
    assert (after.state, after.auto_renew) == ("active", False)
    assert after.canceled_on is not None
    assert (after.renews_at, after.plan, after.price) == (
        before.renews_at,
        before.plan,
        before.price,
    )
    case = case_of(owner)
    assert case.status == CaseStatus.CANCELLED and case.effective_at == before.renews_at
    assert (case.price, case.currency, case.billing_interval) == (Decimal("29.00"), "GBP", "month")
    (confirmation,) = mail.outbox
    assert confirmation.to == ["priya@example.com"]
    assert "Ledgerly" in confirmation.body and "29.00 GBP" in confirmation.body
    assert "https://app.ledgerly.example/settings/billing/cancel/" in confirmation.body


def test_the_renewal_job_ends_the_cancelled_subscription_and_charges_the_others(
    owner, make_owner, walk
):
    stays = make_owner("ines")
    priya = walk(owner, "saas")
    priya.give_reason("competitor")
    priya.decline_offer()
    due = current(owner).renews_at

    invoices = renew(now=due + timedelta(minutes=1))
    assert [i.subscription.owner for i in invoices] == [stays]
    assert not Invoice.objects.filter(subscription__owner=owner).exists()
    assert Subscription.objects.get(owner=owner).state == "ended"


def test_reactivating_from_the_confirmation_turns_auto_renewal_back_on(owner, walk):
    priya = walk(owner, "saas")
    priya.give_reason("competitor")
    priya.decline_offer()
    priya.reactivate()
    assert priya.step == "reactivate"

    after = current(owner)
    assert (after.state, after.auto_renew, after.canceled_on) == ("active", True, None)
    assert case_of(owner).status == CaseStatus.REACTIVATED


def test_a_trial_that_comes_back_is_still_a_trial(make_owner, walk):
    user = make_owner("noor", state="trial")
    noor = walk(user, "saas")
    noor.give_reason("competitor")
    noor.decline_offer()
    assert (current(user).state, current(user).auto_renew) == ("trial", False)
    noor.reactivate()
    assert (current(user).state, current(user).auto_renew) == ("trial", True)


def test_the_follow_ups_are_sent_by_the_command(owner, walk, time_machine):
    priya = walk(owner, "saas")
    priya.give_reason("competitor")  # with the consent box ticked
    priya.decline_offer()
    renews_at = timezone.localdate(current(owner).renews_at)
    assert sent_stages(owner) == ["confirmation"] and send_followups() == []

    time_machine.shift(timedelta(days=3))
    (thank_you,) = send_followups()
    assert sent_stages(owner) == ["confirmation", "thank_you"]
    assert thank_you.to == ["priya@example.com"]
    assert "Ledgerly" in thank_you.subject + thank_you.body
    assert "Team" in thank_you.body
    assert shows_date(thank_you.body, renews_at)
    assert "https://app.ledgerly.example/settings/billing/cancel/l/reactivate/" in thank_you.body

    time_machine.shift(timedelta(days=4))
    (survey,) = send_followups()
    assert sent_stages(owner)[-1] == "survey"
    assert "https://app.ledgerly.example/settings/billing/cancel/l/survey/" in survey.body

    time_machine.shift(timedelta(days=23))
    (winback,) = send_followups()
    assert sent_stages(owner)[-1] == "winback" and winback.to == ["priya@example.com"]
    assert send_followups() == []


def test_a_plan_read_through_the_shared_price_row_is_never_written_into_it(make_owner, walk):
    """Mapped as ``"plan": "price__plan"``, a downgrade would move the *price row* to the
    cheaper plan, and with it every customer who pays that price. The check refuses such a path
    for a written key, and accepting the offer anyway changes no shared row (and is no 500)."""
    from django.core import checks
    from django.test import override_settings

    site = SITES["saas"]
    config = site.graceful_cancel
    config["SUBSCRIPTION_FIELDS"] = {**config["SUBSCRIPTION_FIELDS"], "plan": "price__plan"}
    user, other = make_owner("kofi"), make_owner("ines")
    with override_settings(GRACEFUL_CANCEL=config):
        found = [m for m in checks.run_checks() if m.id == "graceful_cancel.E005"]
        assert any("'plan'" in m.msg for m in found), [m.msg for m in checks.run_checks()]
        table = price_table()
        kofi = walk(user, "saas")
        page = kofi.give_reason("competitor")
        if 'id="gc-accept"' in page:
            kofi.client.raise_request_exception = False
            with kofi.on_commit(execute=True):
                response = kofi.client.post(form_action(page, "gc-accept"))
            assert response.status_code < 500
        assert price_table() == table
        assert current(other).price.plan.code == "team"
