"""0.2's way back after the end (issue 17, part 1) in the three host sites, each as it can.

* The Weekly Reader runs its quickstart configuration: the model backend has neither
  ``RESUBSCRIBE_HOOK`` nor ``RESUBSCRIBE_URL``, so nobody can restart a subscription from a link:
  no come-back link on the receipt page nor in the win-back message (never a promise nothing
  fulfils).
* Ledgerly adds a hook (``saas/billing.subscribe_again``): the receipt page's link leads to one
  confirmation page with the price, and the button creates Ledgerly's new subscription row and
  its invoice, once.
* Ironworks Gym points ``RESUBSCRIBE_URL`` at its own sign-up page (``gym:join``): the button
  leads there, and the gym's page completes the return (``services.complete_return``).

Each reader, owner or member cancels at the period end through the site's pages; the clock then
moves past that date and the site's own renewal job ends the row, as in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from django_graceful_cancel.choices import EventKind, ReturnMethod, ReturnStatus
from django_graceful_cancel.followups import links
from django_graceful_cancel.models import CaseReturn
from tests.hosts.gym.billing import nightly
from tests.hosts.gym.models import Membership
from tests.hosts.magazine.billing import roll_over
from tests.hosts.magazine.models import Subscription as Reading
from tests.hosts.saas.billing import renew
from tests.hosts.saas.models import Invoice
from tests.hosts.saas.models import Subscription as Workspace
from tests.hosts.sites import (
    Customer,
    case_of,
    link_href,
    prepare_catalogue,
    send_followups,
    sent_stages,
    serving,
)

# Every test starts on a Monday at noon (conftest.py), the clock ticking.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("noon")]

#: Follow-ups may go at any hour in these tests (the clock jumps by days).
ANY_TIME = {"FOLLOWUP_QUIET_HOURS": None, "FOLLOWUP_MIN_INTERVAL_HOURS": 0}


@pytest.fixture
def site_with(catalogue: Any) -> Iterator[Callable[..., Any]]:
    """``site_with(name, **extra)``: serve the site with ``extra`` over its GRACEFUL_CANCEL."""
    stack: list[Any] = []

    def serve(name: str, **extra: Any) -> Any:
        outer = serving(name)
        site = outer.__enter__()
        inner = override_settings(GRACEFUL_CANCEL={**site.graceful_cancel, **ANY_TIME, **extra})
        inner.__enter__()
        stack.extend([outer, inner])
        prepare_catalogue(site)
        return site

    yield serve
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


def cancel_at_the_period_end(customer: Customer) -> Any:
    """Through the site's pages: a reason (switching provider), its offer declined."""
    customer.give_reason("competitor")
    customer.decline_offer()
    assert customer.step == "done"
    return case_of(customer.user)


def receipt_page(customer: Customer, case: Any) -> str:
    """The receipt page, opened again later (the session expired meanwhile)."""
    customer.client.force_login(customer.user)
    return customer.get(reverse("graceful_cancel:done", args=[case.reference]))


def seen_of(html: str) -> str:
    found = re.search(r'name="seen" value="(\w+)"', html)
    assert found, html
    return found.group(1)


def test_no_resubscribe_capability_no_come_back_link_anywhere(site_with, walk, time_machine):
    site = site_with("magazine")
    user = site.make_customer("rosa")
    rosa = walk(user, "magazine")
    case = cancel_at_the_period_end(rosa)
    reading = Reading.objects.get(customer=user)

    time_machine.shift(timedelta(days=21))
    roll_over()
    reading.refresh_from_db()
    assert reading.status == Reading.Status.CANCELED  # the magazine ended it
    page = receipt_page(rosa, case)
    assert 'data-host="magazine"' in page
    assert 'id="gc-comeback"' not in page and "/l/comeback/" not in page
    assert 'id="gc-reactivate"' not in page  # it ended: nothing to undo any more
    assert links.comeback_link(case) == ""

    # The win-back message (day 30) goes, with no link nobody would honour.
    time_machine.shift(timedelta(days=10))
    sent = send_followups()
    assert "winback" in sent_stages(user)
    assert sent and all("/l/comeback/" not in m.body for m in sent)
    assert not CaseReturn.objects.exists()


def test_a_hook_restarts_ledgerly_on_the_price_they_had_once(site_with, walk, time_machine):
    site = site_with("saas", RESUBSCRIBE_HOOK="tests.hosts.saas.billing.subscribe_again")
    user = site.make_customer("owen")
    owen = walk(user, "saas")
    case = cancel_at_the_period_end(owen)
    old = Workspace.objects.get(owner=user)

    time_machine.shift(timedelta(days=21))
    assert renew() == []  # the cancelled workspace is not invoiced: it ends
    old.refresh_from_db()
    assert old.state == Workspace.State.ENDED
    receipt = receipt_page(owen, case)
    assert 'data-host="saas"' in receipt
    comeback = link_href(receipt, "gc-comeback")

    confirm = owen.client.get(comeback)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert 'data-host="saas"' in html and "saas/app.css" in html
    # Exactly what will be charged and when, with the time zone named, and one button.
    assert "29.00 GBP per month" in html and "(UTC)" in html
    assert html.count('type="submit"') == 1
    assert not CaseReturn.objects.exists()  # opening the link changes nothing

    seen = seen_of(html)
    done = owen.client.post(comeback, {"seen": seen})
    again = owen.client.post(comeback, {"seen": seen})  # a double click
    assert done.status_code == again.status_code == 200
    assert "Welcome back" in done.content.decode()

    new = Workspace.objects.filter(owner=user).exclude(pk=old.pk).get()
    assert (new.state, new.auto_renew, new.price_id) == ("active", True, old.price_id)
    (invoice,) = Invoice.objects.filter(subscription=new)
    assert invoice.amount == Decimal("29.00")
    case_return = CaseReturn.objects.get(case=case)
    assert (case_return.status, case_return.method, case_return.source) == (
        ReturnStatus.RETURNED,
        ReturnMethod.HOOK,
        "receipt",
    )
    assert case_return.subscription_ref == f"saas.subscription:{new.pk}"
    assert case.events.filter(kind=EventKind.RETURNED).count() == 1
    # Ledgerly's billing page shows the new subscription, which its renewal job will invoice.
    assert "Team" in owen.account()
    time_machine.shift(timedelta(days=31))
    assert [i.subscription_id for i in renew()] == [new.pk]


def test_the_gyms_sign_up_page_completes_the_return(site_with, walk, time_machine):
    site = site_with("gym", RESUBSCRIBE_URL="gym:join")
    user = site.make_customer("lena")
    lena = walk(user, "gym")
    case = cancel_at_the_period_end(lena)

    time_machine.shift(timedelta(days=22))
    nightly()
    assert Membership.objects.get(member=user).is_active is False
    comeback = link_href(receipt_page(lena, case), "gc-comeback")
    html = lena.get(comeback)
    assert 'data-host="gym"' in html and "34.00 EUR" in html
    # The gym's page takes the payment: this one promises no charge on a saved card.
    assert "nothing to re-enter" not in html.lower() and "today when you confirm" not in html
    assert "our sign-up page" in html and "nothing is charged until you complete it" in html
    assert "secure payment page" not in html  # the gym's own page, not a provider's checkout

    response = lena.client.post(comeback, {"seen": seen_of(html)})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('gym:join')}?case={case.reference}"
    pending = CaseReturn.objects.get(case=case)
    assert (pending.status, pending.method) == (ReturnStatus.PENDING, ReturnMethod.REDIRECT)
    assert not case.events.filter(kind=EventKind.RETURNED).exists()

    join = lena.get(response["Location"])
    assert 'data-host="gym"' in join and 'id="join"' in join
    lena.post(response["Location"], {"level": "anytime"})
    assert lena.step == "membership" and "renews automatically" in lena.page

    membership = Membership.objects.select_related("renewal").get(member=user)
    assert (membership.is_active, membership.renewal.auto_renew) == (True, True)
    done = CaseReturn.objects.get(case=case)
    assert done.status == ReturnStatus.RETURNED
    assert done.subscription_ref == f"gym.membership:{membership.pk}"
    assert case.events.filter(kind=EventKind.RETURNED).count() == 1


def test_the_gyms_sign_up_page_ignores_someone_elses_case(site_with, walk, time_machine):
    site = site_with("gym", RESUBSCRIBE_URL="gym:join")
    lena_user, mallory_user = site.make_customer("lena"), site.make_customer("mallory")
    lena = walk(lena_user, "gym")
    case = cancel_at_the_period_end(lena)
    time_machine.shift(timedelta(days=22))
    nightly()
    comeback = link_href(receipt_page(lena, case), "gc-comeback")
    lena.client.post(comeback, {"seen": seen_of(lena.get(comeback))})

    mallory = walk(mallory_user, "gym")
    mallory.post(f"{reverse('gym:join')}?case={case.reference}", {"level": "off-peak"})
    assert CaseReturn.objects.get(case=case).status == ReturnStatus.PENDING
