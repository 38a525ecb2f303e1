"""Return after the end on the Stripe backend: a new subscription on the saved payment method
against localstripe (which implements subscription creation), and, for what it does not
implement (Checkout Sessions, coupons on a new subscription), the exact requests the SDK sends.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.backends import get_backend
from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend
from django_graceful_cancel.choices import EventKind, ReturnMethod, ReturnStatus
from django_graceful_cancel.exceptions import BackendError
from django_graceful_cancel.followups import links
from django_graceful_cancel.models import CancellationCase, CaseReturn, RetentionOffer
from tests.support import require_service
from tests.support.stripe import (
    RecordingHTTPClient,
    error_body,
    seed_customer,
    stripe_settings,
    subscription_body,
)

pytestmark = pytest.mark.django_db


def seen_on(page: Any) -> str:
    return re.search(r'name="seen" value="(\w+)"', page.content.decode()).group(1)


# --- localstripe: a new subscription on the saved card -----------------------------------------


@pytest.fixture
def server(localstripe: Any) -> Any:
    require_service("localstripe", localstripe is not None, "tests/localstripe_server.py")
    with override_settings(GRACEFUL_CANCEL=stripe_settings(localstripe.url)):
        yield localstripe


@pytest.fixture
def subscriber(server: Any, make_customer: Any, catalogue: Any) -> Any:
    customer_id, sub_id = seed_customer(server.client(), f"back{time.monotonic_ns()}@example.com")
    user = make_customer(subscribed=False, last_name=customer_id)
    user.sub_id, user.customer_id = sub_id, customer_id
    return user


def test_a_former_customer_comes_back_on_a_new_stripe_subscription(client, subscriber, server):
    case, _ = services.start_case(subscriber, language="en")
    case = services.confirm_cancellation(case, effective="immediately")
    assert server.client().v1.subscriptions.retrieve(subscriber.sub_id).status == "canceled"
    path = links.comeback_link(case, source="receipt").removeprefix("http://testserver")
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 200
    assert "12.99 EUR per month" in html and "today when you confirm" in html
    assert "payment method you used before" in html  # the saved card: nothing to re-enter
    response = client.post(path, {"seen": seen_on(page)})
    assert response.status_code == 200 and "Welcome back" in response.content.decode()
    client.post(path, {"seen": seen_on(page)})  # a second click subscribes nobody twice

    case_return = CaseReturn.objects.get(case=case)
    assert case_return.status == ReturnStatus.RETURNED
    assert case_return.method == ReturnMethod.SUBSCRIPTION
    new = server.client().v1.subscriptions.retrieve(case_return.subscription_ref)
    assert new.id != subscriber.sub_id
    assert new.status == "active" and new.customer == subscriber.customer_id
    assert new["items"]["data"][0]["plan"]["id"] == "standard-monthly"
    assert new.metadata["graceful_cancel_case"] == case.reference
    live = server.client().v1.subscriptions.list({"customer": subscriber.customer_id})
    assert [s.id for s in live.data if s.status == "active"] == [new.id]
    assert case.events.filter(kind=EventKind.RETURNED).count() == 1


def test_a_period_end_cancellation_comes_back_once_it_ended(client, subscriber, server):
    case, _ = services.start_case(subscriber, language="en")
    case = services.confirm_cancellation(case)
    path = links.comeback_link(case).removeprefix("http://testserver")
    assert "/l/reactivate/" in client.get(path)["Location"]  # not ended yet: reactivate
    # Stripe ends it at the period end; the case's effective date has passed.
    server.client().v1.subscriptions.cancel(subscriber.sub_id)
    with time_machine.travel(case.effective_at + timedelta(days=2), tick=False):
        page = client.get(path)
        assert page.status_code == 200
        client.post(path, {"seen": seen_on(page)})
    assert CaseReturn.objects.get(case=case).status == ReturnStatus.RETURNED


# --- recorded requests: Checkout Session, and a coupon on the new subscription -----------------


@pytest.fixture
def recorder(monkeypatch: Any, customer: Any) -> RecordingHTTPClient:
    recording = RecordingHTTPClient(
        routes={
            "GET /v1/subscriptions/sub_rec": subscription_body(status="canceled"),
            "GET /v1/customers/cus_rec": {
                "id": "cus_rec",
                "object": "customer",
                "invoice_settings": {"default_payment_method": "pm_card"},
            },
            "POST /v1/subscriptions": subscription_body("sub_new"),
        }
    )
    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", recording)
    settings = stripe_settings(
        "http://127.0.0.1:9",  # never reached: the recording client answers
        STRIPE_PRICES={"standard": "price_standard"},
        WINBACK_OFFERS=["winback-half"],
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        yield recording


def ended_case(customer: Any) -> CancellationCase:
    return CancellationCase.objects.create(
        customer=customer,
        subscription_ref="sub_rec",
        status="cancelled",
        language="en",
        plan="Standard",
        plan_code="standard",
        effective_at=timezone.now() - timedelta(days=3),
    )


@pytest.fixture
def half_off(db: Any) -> RetentionOffer:
    return RetentionOffer.objects.create(
        slug="winback-half", kind="discount", title="Half price", parameters={"percent_off": 50}
    )


def test_recorded_new_subscription_with_a_winback_coupon(recorder, customer, half_off):
    recorder.routes["POST /v1/coupons"] = lambda r: (200, {"id": r.form["id"], "object": "coupon"})
    case = ended_case(customer)
    backend = get_backend()
    quote = backend.resubscribe_quote(case, offer=half_off)
    # 50% of 1299 cents is 649.5, rounded to 650 off: 6.49 is charged first.
    assert (quote.amount, quote.offer_amount, quote.currency) == (
        Decimal("12.99"),
        Decimal("6.49"),
        "EUR",
    )
    assert quote.interval == "month" and not quote.needs_checkout
    recorder.requests.clear()
    result = backend.resubscribe(
        case, quote=quote, offer=half_off, idempotency_key="key-1", return_url="https://x/back/"
    )
    assert result.method == "subscription" and result.reference == "sub_new"
    assert recorder.calls() == [
        "GET /v1/coupons/gc-winback-half-50p0a0m",
        "POST /v1/coupons",
        "POST /v1/subscriptions",
    ]
    create = recorder.requests[-1]
    assert create.form == {
        "customer": "cus_rec",
        "items[0][price]": "price_standard",
        "payment_behavior": "error_if_incomplete",
        "metadata[graceful_cancel_case]": case.reference,
        "metadata[graceful_cancel_return]": "1",
        "discounts[0][coupon]": "gc-winback-half-50p0a0m",
    }
    assert create.headers["Idempotency-Key"] == "key-1"


def test_recorded_checkout_session_without_a_saved_payment_method(client, recorder, customer):
    recorder.routes["GET /v1/customers/cus_rec"] = {
        "id": "cus_rec",
        "object": "customer",
        "invoice_settings": {"default_payment_method": None},
        "default_source": None,
    }
    recorder.routes["POST /v1/checkout/sessions"] = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "url": "https://checkout.stripe.com/c/pay/cs_test_1",
    }
    case = ended_case(customer)
    path = links.comeback_link(case, source="receipt").removeprefix("http://testserver")
    page = client.get(path)
    assert "Continue to payment" in page.content.decode()
    assert "Nothing is charged until you complete it" in page.content.decode()
    response = client.post(path, {"seen": seen_on(page)})
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    session = next(r for r in recorder.requests if r.path == "/v1/checkout/sessions")
    back = f"http://testserver{path}"
    assert session.form == {
        "mode": "subscription",
        "customer": "cus_rec",
        "line_items[0][price]": "price_standard",
        "line_items[0][quantity]": "1",
        "success_url": f"{back}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": back,
        "client_reference_id": case.reference,
        "metadata[graceful_cancel_case]": case.reference,
        "metadata[graceful_cancel_return]": "1",
        "subscription_data[metadata][graceful_cancel_case]": case.reference,
        "subscription_data[metadata][graceful_cancel_return]": "1",
    }
    assert session.headers["Idempotency-Key"].startswith(f"graceful-cancel-return-{case.reference}")
    pending = CaseReturn.objects.get(case=case)
    assert (pending.status, pending.method, pending.checkout_ref) == (
        "pending",
        "checkout",
        "cs_test_1",
    )
    assert not case.events.filter(kind=EventKind.RETURNED).exists()

    # Back from Checkout before paying: nothing recorded yet.
    recorder.routes["GET /v1/checkout/sessions/cs_test_1"] = {
        "id": "cs_test_1",
        "status": "open",
        "subscription": None,
        "metadata": {"graceful_cancel_case": case.reference},
    }
    waiting = client.get(f"{path}?session_id=cs_test_1")
    assert "not complete yet" in waiting.content.decode()
    assert CaseReturn.objects.get(case=case).status == ReturnStatus.PENDING
    # Paid: the return is complete, with the subscription Checkout created.
    recorder.routes["GET /v1/checkout/sessions/cs_test_1"] = {
        "id": "cs_test_1",
        "status": "complete",
        "subscription": "sub_from_checkout",
        "metadata": {"graceful_cancel_case": case.reference},
    }
    welcome = client.get(f"{path}?session_id=cs_test_1")
    assert "Welcome back" in welcome.content.decode()
    case_return = CaseReturn.objects.get(case=case)
    assert case_return.status == ReturnStatus.RETURNED
    assert case_return.subscription_ref == "sub_from_checkout"
    # Another session id is not this case's checkout.
    assert client.get(f"{path}?session_id=cs_other").status_code == 200  # already back
    assert case.events.filter(kind=EventKind.RETURNED).count() == 1


def test_recorded_card_refused_changes_nothing(client, recorder, customer):
    recorder.routes["POST /v1/subscriptions"] = lambda r: (
        402,
        error_body("card_error", "card_declined", "Your card was declined."),
    )
    case = ended_case(customer)
    path = links.comeback_link(case).removeprefix("http://testserver")
    page = client.get(path)
    response = client.post(path, {"seen": seen_on(page)})
    assert response.status_code == 502
    assert "has not been restarted" in response.content.decode()
    assert not CaseReturn.objects.exists()
    with pytest.raises(BackendError):
        get_backend().resubscribe(
            case,
            quote=get_backend().resubscribe_quote(case),
            offer=None,
            idempotency_key="k",
            return_url="",
        )


def test_recorded_stripe_down_on_the_page_charges_nothing(client, recorder, customer):
    recorder.routes["GET /v1/subscriptions/sub_rec"] = lambda r: (
        500,
        error_body("api_error", "", "Stripe is down"),
    )
    case = ended_case(customer)
    response = client.get(links.comeback_link(case).removeprefix("http://testserver"))
    assert response.status_code == 502
    assert "has not been restarted" in response.content.decode()
    assert not CaseReturn.objects.exists()
    assert "POST /v1/subscriptions" not in recorder.calls()


def test_recorded_paid_checkout_completes_the_return_by_webhook(client, recorder, customer):
    from django_graceful_cancel.backends.stripe.webhooks import handle_event

    recorder.routes["GET /v1/customers/cus_rec"] = {"id": "cus_rec", "object": "customer"}
    recorder.routes["POST /v1/checkout/sessions"] = {
        "id": "cs_paid",
        "object": "checkout.session",
        "url": "https://checkout.stripe.com/c/pay/cs_paid",
    }
    case = ended_case(customer)
    path = links.comeback_link(case).removeprefix("http://testserver")
    client.post(path, {"seen": seen_on(client.get(path))})
    assert CaseReturn.objects.get(case=case).status == ReturnStatus.PENDING
    session = {
        "id": "cs_paid",
        "object": "checkout.session",
        "status": "complete",
        "subscription": "sub_paid",
        "metadata": {"graceful_cancel_case": case.reference, "graceful_cancel_return": "1"},
    }
    recorder.routes["GET /v1/checkout/sessions/cs_paid"] = session
    # Another site's session, and a session of no return, change nothing.
    assert handle_event({"type": "checkout.session.completed", "data": {"object": {}}}) is None
    other = {**session, "id": "cs_other"}
    assert handle_event({"type": "checkout.session.completed", "data": {"object": other}}) is None
    assert CaseReturn.objects.get(case=case).status == ReturnStatus.PENDING
    event = {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": session}}
    assert handle_event(event) == case
    assert handle_event(event) == case  # Stripe may send it twice
    case_return = CaseReturn.objects.get(case=case)
    assert case_return.status == ReturnStatus.RETURNED
    assert case_return.subscription_ref == "sub_paid"
    assert case.events.filter(kind=EventKind.RETURNED).count() == 1
    assert case.events.get(kind=EventKind.RETURNED).actor_label == "stripe"
