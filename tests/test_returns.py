"""Return after the end (issue 17, part 1) and win-back offers (part 2), through the service
layer and the pages, on the model backend with the site's resubscribe hook.

A case is cancelled at the period end (20 days ahead), the clock moves past that date, and the
customer follows the come-back link from the win-back message or the receipt page.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail, signing
from django.dispatch import Signal
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services, signals, tasks
from django_graceful_cancel.choices import (
    CaseStatus,
    EventKind,
    FollowUpStatus,
    OfferOutcome,
    ReturnMethod,
    ReturnStatus,
)
from django_graceful_cancel.exceptions import InvalidInput, InvalidTransition
from django_graceful_cancel.followups import links
from django_graceful_cancel.models import (
    CancellationCase,
    CaseReturn,
    FollowUp,
    OfferPresentation,
    RetentionOffer,
    WinbackArm,
)
from django_graceful_cancel.policies import DefaultOfferPolicy
from django_graceful_cancel.services import holdout
from django_graceful_cancel.services.returns import shown
from tests.support import gc_settings
from tests.testapp.models import Subscription

pytestmark = pytest.mark.django_db

HOOK = "tests.test_returns.subscribe_again"
RETURNS = {
    "RESUBSCRIBE_HOOK": HOOK,
    "RESUBSCRIBE_OFFER_KINDS": ["discount"],
    "WINBACK_OFFERS": ["winback-half"],
    "FOLLOWUP_QUIET_HOURS": None,
    "FOLLOWUP_MIN_INTERVAL_HOURS": 0,
}
#: What the hook was asked, per call (the test reads it back).
HOOK_CALLS: list[dict[str, Any]] = []


def subscribe_again(*, case: Any, quote: Any, offer: Any, idempotency_key: str) -> str:
    """The site's RESUBSCRIBE_HOOK: a new subscription row on the plan the quote names."""
    from tests.testapp.models import Plan

    HOOK_CALLS.append({"case": case.pk, "quote": quote, "offer": offer, "key": idempotency_key})
    sub = Subscription.objects.create(
        user=case.customer,
        plan=Plan.objects.get(code=quote.plan_code),
        current_period_end=timezone.now() + timedelta(days=30),
    )
    return f"testapp.subscription:{sub.pk}"


@pytest.fixture(autouse=True)
def _returns_on() -> Any:
    HOOK_CALLS.clear()
    with override_settings(GRACEFUL_CANCEL=gc_settings(**RETURNS)):
        yield


@pytest.fixture
def winback_offer(db: Any) -> RetentionOffer:
    return RetentionOffer.objects.create(
        slug="winback-half",
        kind="discount",
        title="First month at half price",
        parameters={"percent_off": 50},
    )


@contextmanager
def capture(signal: Signal):
    """The calls ``signal`` makes while the block runs (its on-commit callbacks run as it ends,
    as a commit would)."""
    sent: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        sent.append(kwargs)

    signal.connect(receiver)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield sent
    finally:
        signal.disconnect(receiver)


def cancel(customer: Any, reason: str | None = "price", **contact: Any) -> CancellationCase:
    case, _ = services.start_case(customer, language="en")
    contact.setdefault("contact_consent", True)
    services.record_reason(case, reason, **contact)
    presentation = services.present_offer(case)
    if presentation is not None:
        services.decline_offer(case)
    return services.confirm_cancellation(case)


def ended(case: CancellationCase) -> datetime:
    """A moment after the cancellation took effect."""
    assert case.effective_at is not None
    return case.effective_at + timedelta(days=11)


def comeback_path(case: CancellationCase, **kwargs: Any) -> str:
    url = links.comeback_link(case, **kwargs)
    assert url, "the case should have a come-back link"
    return url.removeprefix("http://testserver")


def send_winback(case: CancellationCase) -> Any:
    """Send the case's win-back message now; returns the email."""
    winback = FollowUp.objects.get(case=case, stage="winback")
    FollowUp.objects.filter(pk=winback.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert tasks.send_followup(winback.pk) == FollowUpStatus.SENT
    return mail.outbox[-1]


def link_in(text: str, name: str = "comeback") -> str:
    found = re.search(rf"http://testserver(/\S*/l/{name}/[^\s\"<]+)", text)
    assert found, f"no {name} link in: {text}"
    return found.group(1)


# --- the come-back page, model backend with the site's hook ------------------------------------


def test_return_after_the_end_from_the_receipt_link(client, customer, catalogue):
    case = cancel(customer)
    sub = Subscription.objects.get(user=customer)
    with time_machine.travel(ended(case), tick=False):
        path = comeback_path(case, source="receipt")
        page = client.get(path)
        assert page.status_code == 200
        html = page.content.decode()
        # Exactly what will be charged, and when, with the time zone named; one button.
        assert "12.99 EUR per month" in html
        assert "today when you confirm" in html and "(UTC)" in html
        assert html.count('type="submit"') == 1
        assert not CaseReturn.objects.exists() and not HOOK_CALLS  # GET changes nothing
        seen = re.search(r'name="seen" value="(\w+)"', html).group(1)
        with capture(signals.case_returned) as sent:
            response = client.post(path, {"seen": seen})
        assert response.status_code == 200 and "Welcome back" in response.content.decode()
        again = client.post(path, {"seen": seen})  # a double click
    assert again.status_code == 200
    case_return = CaseReturn.objects.get(case=case)
    assert case_return.status == ReturnStatus.RETURNED
    assert case_return.method == ReturnMethod.HOOK
    assert (case_return.source, case_return.followup, case_return.offer) == ("receipt", None, None)
    assert case_return.amount == Decimal("12.99") and case_return.currency == "EUR"
    new = Subscription.objects.filter(user=customer).exclude(pk=sub.pk).get()
    assert case_return.subscription_ref == f"testapp.subscription:{new.pk}"
    assert len(HOOK_CALLS) == 1  # idempotent: one new subscription for two clicks
    assert [s["case_return"] for s in sent] == [case_return]
    event = case.events.get(kind=EventKind.RETURNED)
    assert event.actor_label == "customer (link)"
    assert event.data["method"] == "hook" and event.data["source"] == "receipt"
    # The link is used up: a clear page, no second subscription.
    with time_machine.travel(ended(case) + timedelta(hours=1), tick=False):
        used = client.get(path)
    assert used.status_code == 200 and "Welcome back" in used.content.decode()
    assert len(HOOK_CALLS) == 1


def test_before_the_end_the_link_leads_to_the_reactivation(client, customer, catalogue):
    case = cancel(customer)
    response = client.get(comeback_path(case))
    assert response.status_code == 302
    assert "/l/reactivate/" in response["Location"]
    with pytest.raises(InvalidTransition) as refused:
        services.confirm_return(
            services.open_comeback(comeback_path(case).split("/")[-2]), seen="", return_url=""
        )
    assert refused.value.code == "reactivate_instead"
    assert not CaseReturn.objects.exists()


def test_only_the_cases_own_customer(client, customer, make_customer, catalogue):
    case = cancel(customer)
    with time_machine.travel(ended(case), tick=False):
        path = comeback_path(case)
        client.force_login(make_customer("mallory"))
        assert client.get(path).status_code == 404
        assert client.post(path, {"seen": "x"}).status_code == 404
        client.force_login(customer)
        assert client.get(path).status_code == 200
    assert not CaseReturn.objects.exists()


def test_a_tampered_an_expired_and_a_foreign_purpose_token(client, customer, catalogue):
    case = cancel(customer)
    path = comeback_path(case)
    token = path.split("/")[-2]
    with time_machine.travel(ended(case), tick=False):
        assert client.get(path.replace(token, token[:-2] + "xx")).status_code == 400
        # A reactivation token is not a come-back token (one purpose per salt).
        other = links.make_token("reactivate", case.pk)
        assert client.get(reverse("graceful_cancel:comeback", args=[other])).status_code == 400
        # Bound to the customer: a token naming another customer of this case is refused.
        forged = signing.dumps(
            {"c": case.pk, "u": case.customer_id + 1, "s": "message"},
            salt="django_graceful_cancel.links.comeback",
            compress=True,
        )
        assert client.get(reverse("graceful_cancel:comeback", args=[forged])).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(days=61), tick=False):
        expired = client.get(path)
    assert expired.status_code == 410 and "expired" in expired.content.decode()


def test_a_changed_price_is_shown_again_and_nothing_is_charged(client, customer, catalogue):
    case = cancel(customer)
    with time_machine.travel(ended(case), tick=False):
        path = comeback_path(case)
        seen = re.search(r'name="seen" value="(\w+)"', client.get(path).content.decode()).group(1)
        customer.subscriptions.get().plan.__class__.objects.filter(code="standard").update(
            price="14.99"
        )
        response = client.post(path, {"seen": seen})
    assert response.status_code == 409
    html = response.content.decode()
    assert "14.99 EUR per month" in html and "price has changed" in html
    assert not CaseReturn.objects.exists() and not HOOK_CALLS


def test_no_hook_no_link_and_a_clear_page(client, customer, catalogue):
    case = cancel(customer)
    path = comeback_path(case)
    with override_settings(GRACEFUL_CANCEL=gc_settings(RESUBSCRIBE_HOOK=None)):
        assert links.comeback_link(case) == ""
        assert links.links_for(case, "email").comeback == ""
        with time_machine.travel(ended(case), tick=False):
            response = client.get(path)
    assert response.status_code == 410
    assert "cannot restart" in response.content.decode()


def test_a_closing_business_gets_no_come_back_link(customer, catalogue):
    case = cancel(customer, "business-closed")
    assert links.comeback_link(case) == ""
    assert not FollowUp.objects.filter(case=case, stage="winback").exists()


def test_the_sites_sign_up_page_then_complete_return(client, customer, catalogue):
    settings = gc_settings(**{**RETURNS, "RESUBSCRIBE_HOOK": None, "RESUBSCRIBE_URL": "/join/"})
    with override_settings(GRACEFUL_CANCEL=settings):
        case = cancel(customer)
        with time_machine.travel(ended(case), tick=False):
            path = comeback_path(case)
            seen = re.search(r'name="seen" value="(\w+)"', client.get(path).content.decode()).group(
                1
            )
            response = client.post(path, {"seen": seen})
            assert response.status_code == 302
            assert response["Location"] == f"/join/?case={case.reference}"
            pending = CaseReturn.objects.get(case=case)
            assert pending.status == ReturnStatus.PENDING
            assert not case.events.filter(kind=EventKind.RETURNED).exists()
            with pytest.raises(InvalidInput):
                services.complete_return(case)
            with capture(signals.case_returned) as sent:
                done = services.complete_return(case, reference="testapp.subscription:99")
            again = services.complete_return(case, reference="testapp.subscription:99")
    assert done.status == ReturnStatus.RETURNED and again.pk == done.pk
    assert done.method == ReturnMethod.REDIRECT
    assert done.subscription_ref == "testapp.subscription:99"
    assert len(sent) == 1
    assert case.events.filter(kind=EventKind.RETURNED).count() == 1


def test_the_receipt_page_shows_the_link_only_after_the_end(client, customer, catalogue):
    client.force_login(customer)
    case = cancel(customer)
    before = client.get(reverse("graceful_cancel:done", args=[case.reference]))
    assert "gc-comeback" not in before.content.decode()
    assert "gc-reactivate" in before.content.decode()
    with time_machine.travel(ended(case), tick=False):
        client.force_login(customer)  # the first session expired meanwhile
        after = client.get(reverse("graceful_cancel:done", args=[case.reference]))
    html = after.content.decode()
    assert 'id="gc-comeback"' in html and "/l/comeback/" in html


# --- win-back messages: the link, the offer, the attribution -----------------------------------


def test_a_winback_offer_accepted_and_attributed(client, customer, catalogue, winback_offer):
    case = cancel(customer)
    arm = WinbackArm.objects.get(case=case)
    assert not arm.is_holdout and arm.offer == winback_offer
    with time_machine.travel(ended(case), tick=False):
        message = send_winback(case)
        assert "First month at half price" in message.body
        assert "/l/reactivate/" not in message.body  # the cancellation took effect
        path = link_in(message.body)
        html = client.get(path).content.decode()
        assert "12.99 EUR per month" in html
        assert "6.50 EUR for the first charge" in html
        assert "pay 6.50 EUR" in html
        seen = re.search(r'name="seen" value="(\w+)"', html).group(1)
        client.post(path, {"seen": seen})
    winback = FollowUp.objects.get(case=case, stage="winback")
    case_return = CaseReturn.objects.get(case=case)
    assert case_return.status == ReturnStatus.RETURNED
    assert (case_return.followup, case_return.channel, case_return.source) == (
        winback,
        "email",
        "message",
    )
    assert case_return.offer == winback_offer
    assert case_return.offer_amount == Decimal("6.50")
    assert HOOK_CALLS[0]["offer"] == winback_offer
    assert HOOK_CALLS[0]["quote"].offer_amount == Decimal("6.50")
    event = case.events.get(kind=EventKind.RETURNED)
    assert event.data["offer"] == "winback-half" and event.data["followup"] == winback.pk


def test_the_winback_message_without_an_offer_still_links_back(customer, catalogue):
    case = cancel(customer)
    assert WinbackArm.objects.get(case=case).offer is None  # no such offer in the catalogue
    with time_machine.travel(ended(case), tick=False):
        message = send_winback(case)
    assert "Come back in one click" in message.body and "this offer" not in message.body
    html = message.alternatives[0][0] if message.alternatives else ""
    assert "/l/comeback/" in html


def test_the_rest_of_the_sequence_stops_on_return(client, customer, catalogue):
    case = cancel(customer)
    with time_machine.travel(ended(case), tick=False):
        path = comeback_path(case)
        seen = re.search(r'name="seen" value="(\w+)"', client.get(path).content.decode()).group(1)
        client.post(path, {"seen": seen})
    winback = FollowUp.objects.get(case=case, stage="winback")
    assert winback.status == FollowUpStatus.CANCELLED and winback.last_error == "returned"
    assert links.comeback_link(case) == ""  # used up


def test_policy_never_offers_a_declined_offer_nor_within_the_cooldown(
    customer, make_customer, catalogue, winback_offer
):
    settings = gc_settings(**{**RETURNS, "WINBACK_OFFERS": ["discount-30-3m", "winback-half"]})
    with override_settings(GRACEFUL_CANCEL=settings):
        catalogue_discount = RetentionOffer.objects.get(slug="discount-30-3m")
        # The customer declined the catalogue discount in the flow (cancel() declines it).
        case = cancel(customer)
        assert OfferPresentation.objects.get(case=case).outcome == OfferOutcome.DECLINED
        assert OfferPresentation.objects.get(case=case).offer == catalogue_discount
        assert DefaultOfferPolicy().choose_winback_offer(case) == winback_offer
        # Someone who never declined it gets the first of the list.
        other = make_customer("bob")
        case_b, _ = services.start_case(other, language="en")
        case_b = services.record_reason(case_b, "price", contact_consent=True)
        assert DefaultOfferPolicy().choose_winback_offer(case_b) == catalogue_discount
        # A win-back offer taken on an earlier return counts for the cooldown.
        CaseReturn.objects.create(
            case=case_b, customer=other, method="hook", status="returned", offer=winback_offer
        )
        assert DefaultOfferPolicy().choose_winback_offer(case_b) is None


def test_policy_offers_only_what_the_backend_applies(customer, catalogue, winback_offer):
    case = cancel(customer)
    assert DefaultOfferPolicy().choose_winback_offer(case) == winback_offer
    kinds = gc_settings(**{**RETURNS, "RESUBSCRIBE_OFFER_KINDS": []})
    with override_settings(GRACEFUL_CANCEL=kinds):
        assert DefaultOfferPolicy().choose_winback_offer(case) is None
    with override_settings(GRACEFUL_CANCEL=gc_settings(**{**RETURNS, "RESUBSCRIBE_HOOK": None})):
        assert DefaultOfferPolicy().choose_winback_offer(case) is None


# --- the holdout -------------------------------------------------------------------------------


def test_the_holdout_gets_no_winback_message_and_is_recorded(make_customer, catalogue):
    settings = gc_settings(**{**RETURNS, "WINBACK_HOLDOUT_PERCENT": 50})
    with override_settings(GRACEFUL_CANCEL=settings):
        cases = [cancel(make_customer()) for _ in range(16)]
    arms = {arm.case_id: arm for arm in WinbackArm.objects.all()}
    assert set(arms) == {c.pk for c in cases}
    for case in cases:
        # The same draw, computed here from the reference.
        digest = hashlib.sha256(f"winback:{case.reference}".encode()).digest()
        expected = int.from_bytes(digest[:8], "big") / 2**64 < 0.5
        assert arms[case.pk].is_holdout is expected
        assert arms[case.pk].holdout_percent == 50
        has_winback = FollowUp.objects.filter(case=case, stage="winback").exists()
        assert has_winback is not expected
        # The rest of the sequence is the same in both arms.
        assert FollowUp.objects.filter(case=case, stage="survey").exists()
    assert {a.is_holdout for a in arms.values()} == {True, False}
    # Drawn once: a later change of the share moves nobody.
    with override_settings(
        GRACEFUL_CANCEL=gc_settings(**{**RETURNS, "WINBACK_HOLDOUT_PERCENT": 0})
    ):
        assert holdout.winback_arm(cases[0]).is_holdout is arms[cases[0].pk].is_holdout


def test_no_consent_no_arm(customer, catalogue):
    case = cancel(customer, contact_consent=False)
    assert not WinbackArm.objects.filter(case=case).exists()


def test_the_quote_hash_covers_what_is_charged(customer, catalogue, winback_offer):
    from django_graceful_cancel.backends import get_backend

    case = cancel(customer)
    plain = get_backend().resubscribe_quote(case)
    offered = get_backend().resubscribe_quote(case, offer=winback_offer)
    assert plain is not None and offered is not None
    assert offered.offer_amount == Decimal("6.50")
    assert shown(plain) != shown(offered)
    assert case.status == CaseStatus.CANCELLED


def test_the_return_is_an_outbound_webhook(client, customer, catalogue):
    from django_graceful_cancel.models import OutboundDelivery, WebhookEndpoint

    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/in", event_types=["case.returned"]
    )
    case = cancel(customer)
    with time_machine.travel(ended(case), tick=False):
        path = comeback_path(case, source="receipt")
        seen = re.search(r'name="seen" value="(\w+)"', client.get(path).content.decode()).group(1)
        client.post(path, {"seen": seen})
    [delivery] = OutboundDelivery.objects.filter(event_type="case.returned")
    assert delivery.case_id == case.pk
    event = delivery.payload["data"]["event"]
    assert (event["method"], event["source"], event["offer"]) == ("hook", "receipt", None)


def test_a_customer_subscribed_again_elsewhere_is_not_charged_twice(client, customer, catalogue):
    from tests.testapp.models import Plan

    case = cancel(customer)
    with time_machine.travel(ended(case), tick=False):
        path = comeback_path(case)
        seen = re.search(r'name="seen" value="(\w+)"', client.get(path).content.decode()).group(1)
        # They signed up again on the site meanwhile: a second live subscription.
        Subscription.objects.create(
            user=customer,
            plan=Plan.objects.get(code="basic"),
            current_period_end=timezone.now() + timedelta(days=30),
        )
        assert client.get(path).status_code == 410
        assert client.post(path, {"seen": seen}).status_code == 410
    assert not CaseReturn.objects.exists() and not HOOK_CALLS


def test_a_session_id_without_a_checkout_is_refused(client, customer, catalogue):
    case = cancel(customer)
    with time_machine.travel(ended(case), tick=False):
        response = client.get(comeback_path(case) + "?session_id=cs_forged")
    assert response.status_code == 400
    assert not CaseReturn.objects.exists()
