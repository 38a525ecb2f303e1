"""The Stripe backend against localstripe (a stateful fake Stripe on 127.0.0.1), and, for what
localstripe does not implement, the exact requests the SDK sends through a recording client.

Every localstripe test reads the subscription back from the server after the operation.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_graceful_cancel.backends import get_backend
from django_graceful_cancel.backends.stripe import (
    StripeSubscriptionBackend,
    backend_error_from,
    customer_id_for,
)
from django_graceful_cancel.exceptions import BackendError
from django_graceful_cancel.models import CancellationCase, RetentionOffer
from tests.support import free_port, gc_settings, require_service
from tests.support.stripe import (
    BACKEND,
    RecordingHTTPClient,
    error_body,
    seed_customer,
    stripe_settings,
    subscription_body,
)

pytestmark = pytest.mark.django_db

CUSTOMERS: dict[int, str] = {}


def lookup_customer(user: Any) -> str | None:
    """A STRIPE_CUSTOMER_LOOKUP callable, by dotted path."""
    return CUSTOMERS.get(user.pk)


@pytest.fixture
def server(localstripe: Any) -> Any:
    require_service("localstripe", localstripe is not None, "tests/localstripe_server.py")
    return localstripe


@pytest.fixture
def on_localstripe(server: Any) -> Any:
    with override_settings(GRACEFUL_CANCEL=stripe_settings(server.url)):
        yield server


@pytest.fixture
def subscriber(on_localstripe: Any, make_customer: Any) -> Any:
    """A user whose last_name holds their Stripe customer id, subscribed to Standard."""
    client = on_localstripe.client()
    customer_id, sub_id = seed_customer(client, f"user{time.monotonic_ns()}@example.com")
    user = make_customer(subscribed=False, last_name=customer_id)
    user.sub_id = sub_id
    return user


def case_for(user: Any, sub_id: str) -> CancellationCase:
    return CancellationCase.objects.create(customer=user, subscription_ref=sub_id)


def read_back(server: Any, sub_id: str) -> Any:
    return server.client().v1.subscriptions.retrieve(sub_id)


# --- customer lookup ---------------------------------------------------------------------------


def test_lookup_by_field_path_callable_and_missing(make_customer):
    user = make_customer(subscribed=False, last_name="cus_field")
    with override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_CUSTOMER_LOOKUP="last_name")):
        assert customer_id_for(user) == "cus_field"
    with override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_CUSTOMER_LOOKUP="profile__cus")):
        assert customer_id_for(user) is None  # no such relation: no customer, no crash
    CUSTOMERS[user.pk] = "cus_callable"
    path = "tests.test_stripe_backend.lookup_customer"
    with override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_CUSTOMER_LOOKUP=path)):
        assert customer_id_for(user) == "cus_callable"


def test_lookup_without_setting_needs_djstripe(make_customer):
    user = make_customer(subscribed=False)
    with (
        override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_CUSTOMER_LOOKUP=None)),
        pytest.raises(ImproperlyConfigured, match="dj-stripe"),
    ):
        customer_id_for(user)


def test_settings_checks_reject_bad_stripe_values():
    from django_graceful_cancel.checks import check_settings

    bad = gc_settings(STRIPE_PRORATION_BEHAVIOR="sometimes", STRIPE_API_BASE="localhost:8420")
    with override_settings(GRACEFUL_CANCEL=bad):
        messages = [e.msg for e in check_settings() if e.id == "graceful_cancel.E003"]
    assert any("STRIPE_PRORATION_BEHAVIOR" in m for m in messages)
    assert any("STRIPE_API_BASE" in m for m in messages)


# --- reading, against localstripe --------------------------------------------------------------


def test_active_subscription_is_described_from_stripe(subscriber, on_localstripe):
    backend = get_backend()
    assert isinstance(backend, StripeSubscriptionBackend)
    info = backend.get_active_subscription(subscriber)
    remote = read_back(on_localstripe, subscriber.sub_id)
    assert info is not None
    assert info.reference == subscriber.sub_id
    assert info.plan_code == "standard"
    assert info.plan == "Standard"
    assert info.price == Decimal("12.99")
    assert info.currency == "EUR"
    assert info.interval == "month"
    assert info.is_active and not info.cancel_at_period_end
    assert int(info.current_period_end.timestamp()) == remote["current_period_end"]
    assert int(info.started_at.timestamp()) == remote["start_date"]
    assert backend.get_subscription(subscriber.sub_id) == info


def test_no_customer_or_no_live_subscription_is_none(subscriber, on_localstripe, make_customer):
    backend = get_backend()
    assert backend.get_active_subscription(make_customer(subscribed=False)) is None
    on_localstripe.client().v1.subscriptions.cancel(subscriber.sub_id)
    assert backend.get_active_subscription(subscriber) is None
    # The ended subscription is still readable by reference, as not active.
    ended = backend.get_subscription(subscriber.sub_id)
    assert ended is not None and not ended.is_active


def test_unknown_reference_is_none(on_localstripe):
    assert get_backend().get_subscription("sub_doesnotexist") is None


# --- writing, against localstripe --------------------------------------------------------------


def test_cancel_at_period_end(subscriber, on_localstripe):
    case = case_for(subscriber, subscriber.sub_id)
    get_backend().cancel(subscriber.sub_id, at_period_end=True, case=case)
    remote = read_back(on_localstripe, subscriber.sub_id)
    assert remote.cancel_at_period_end is True
    assert remote.status == "active"
    # (localstripe drops metadata on update: the recorded test below checks it is sent.)
    assert get_backend().get_subscription(subscriber.sub_id).cancel_at_period_end


def test_cancel_now_and_again(subscriber, on_localstripe):
    case = case_for(subscriber, subscriber.sub_id)
    backend = get_backend()
    backend.cancel(subscriber.sub_id, at_period_end=False, case=case)
    assert read_back(on_localstripe, subscriber.sub_id).status == "canceled"
    # A retry after a lost answer is a success, not an error.
    backend.cancel(subscriber.sub_id, at_period_end=False, case=case)
    assert read_back(on_localstripe, subscriber.sub_id).status == "canceled"


def test_reactivate_undoes_a_period_end_cancellation(subscriber, on_localstripe):
    case = case_for(subscriber, subscriber.sub_id)
    backend = get_backend()
    backend.cancel(subscriber.sub_id, at_period_end=True, case=case)
    backend.reactivate(subscriber.sub_id, case=case)
    remote = read_back(on_localstripe, subscriber.sub_id)
    assert remote.cancel_at_period_end is False
    assert remote.status == "active"


def test_downgrade_changes_the_plan(subscriber, on_localstripe, catalogue):
    case = case_for(subscriber, subscriber.sub_id)
    offer = RetentionOffer.objects.get(slug="downgrade-basic")
    applied = get_backend().apply_offer(subscriber.sub_id, offer, case=case)
    remote = read_back(on_localstripe, subscriber.sub_id)
    assert remote["items"]["data"][0]["plan"]["id"] == "basic-monthly"
    assert len(remote["items"]["data"]) == 1
    assert applied == {
        "kind": "downgrade",
        "applied_by": "stripe",
        "plan": "basic",
        "price": "basic-monthly",
    }
    info = get_backend().get_subscription(subscriber.sub_id)
    assert (info.plan_code, info.price) == ("basic", Decimal("7.99"))


def test_downgrade_to_an_unconfigured_plan_is_refused(subscriber, on_localstripe, catalogue):
    case = case_for(subscriber, subscriber.sub_id)
    offer = RetentionOffer.objects.get(slug="downgrade-basic")
    offer.parameters = {"plan": "platinum"}
    with pytest.raises(BackendError) as raised:
        get_backend().apply_offer(subscriber.sub_id, offer, case=case)
    assert raised.value.code == "stripe_unknown_plan" and raised.value.transient is False
    assert read_back(on_localstripe, subscriber.sub_id)["items"]["data"][0]["plan"]["id"] == (
        "standard-monthly"
    )


def test_extension_moves_the_trial_end_past_the_paid_period(subscriber, on_localstripe, catalogue):
    case = case_for(subscriber, subscriber.sub_id)
    offer = RetentionOffer.objects.get(slug="extension-1m")  # {"days": 30}
    period_end = read_back(on_localstripe, subscriber.sub_id)["current_period_end"]
    get_backend().apply_offer(subscriber.sub_id, offer, case=case)
    remote = read_back(on_localstripe, subscriber.sub_id)
    assert remote["trial_end"] == period_end + 30 * 86400


def test_discount_coupon_is_created_once_and_reused(on_localstripe, catalogue):
    offer = RetentionOffer.objects.get(slug="discount-30-3m")
    backend = get_backend()
    first = backend.coupon_for(offer, offer.parameters)
    second = get_backend().coupon_for(offer, offer.parameters)
    assert first == second
    coupon = on_localstripe.client().v1.coupons.retrieve(first)
    assert coupon.percent_off == 30
    assert (coupon.duration, coupon.duration_in_months) == ("repeating", 3)
    coupons = on_localstripe.client().v1.coupons.list({"limit": 100}).data
    assert [c.id for c in coupons].count(first) == 1


# --- errors, real ones from the network --------------------------------------------------------


def test_wrong_api_key_is_a_permanent_error(server):
    bad_key = stripe_settings(server.url, STRIPE_API_KEY="rk_bad")
    with override_settings(GRACEFUL_CANCEL=bad_key), pytest.raises(BackendError) as raised:
        get_backend().get_subscription("sub_x")
    assert raised.value.code == "stripe_authentication"
    assert raised.value.transient is False
    assert isinstance(raised.value.__cause__, stripe.AuthenticationError)


def test_unreachable_stripe_is_a_transient_error():
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        override_settings(GRACEFUL_CANCEL=stripe_settings(dead)),
        pytest.raises(BackendError) as raised,
    ):
        get_backend().get_subscription("sub_x")
    assert raised.value.code == "stripe_unreachable"
    assert raised.value.transient is True


def test_unknown_subscription_on_cancel_is_permanent(on_localstripe, customer):
    case = case_for(customer, "sub_missing")
    with pytest.raises(BackendError) as raised:
        get_backend().cancel("sub_missing", at_period_end=True, case=case)
    assert raised.value.transient is False


# --- recorded requests: what localstripe does not implement ------------------------------------


@pytest.fixture
def recorder(monkeypatch: Any) -> RecordingHTTPClient:
    client = RecordingHTTPClient(
        routes={
            "GET /v1/subscriptions/sub_rec": subscription_body(),
            "POST /v1/subscriptions/sub_rec": subscription_body(),
        }
    )
    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", client)
    settings = stripe_settings(
        "http://127.0.0.1:9",  # never reached: the recording client answers
        STRIPE_PRICES={"basic": "price_basic", "standard": "price_standard"},
        STRIPE_FEATURE_PRICES={"premium-support": "price_support"},
        STRIPE_SEND_CANCELLATION_DETAILS=True,  # as against Stripe itself
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        yield client


def test_recorded_describe_reads_todays_api_shape(recorder):
    info = get_backend().get_subscription("sub_rec")
    assert recorder.calls() == ["GET /v1/subscriptions/sub_rec"]
    assert (info.plan_code, info.price, info.currency) == ("standard", Decimal("12.99"), "EUR")
    # The body the recorder served (built when the fixture ran), not a second one built now: the
    # period end is relative to the clock, and a second boundary in between made this flaky.
    body = recorder.routes["GET /v1/subscriptions/sub_rec"]
    assert (
        int(info.current_period_end.timestamp()) == (body["items"]["data"][0]["current_period_end"])
    )


def test_recorded_discount_creates_coupon_then_applies_it(recorder, customer, catalogue):
    recorder.routes["POST /v1/coupons"] = lambda r: (200, {"id": r.form["id"], "object": "coupon"})
    case = case_for(customer, "sub_rec")
    offer = RetentionOffer.objects.get(slug="discount-30-3m")
    applied = get_backend().apply_offer("sub_rec", offer, case=case)
    coupon_id = "gc-discount-30-3m-30p0a3m"
    assert recorder.calls() == [
        f"GET /v1/coupons/{coupon_id}",
        "POST /v1/coupons",
        "POST /v1/subscriptions/sub_rec",
    ]
    assert recorder.requests[1].form == {
        "id": coupon_id,
        "metadata[graceful_cancel_offer]": "discount-30-3m",
        "percent_off": "30.0",
        "duration": "repeating",
        "duration_in_months": "3",
    }
    assert recorder.requests[2].form == {
        "discounts[0][coupon]": coupon_id,
        "metadata[graceful_cancel_case]": case.reference,
    }
    assert applied["coupon"] == coupon_id


def test_recorded_discount_reuses_an_existing_coupon(recorder, customer, catalogue):
    coupon_id = "gc-discount-30-3m-30p0a3m"
    recorder.routes[f"GET /v1/coupons/{coupon_id}"] = {"id": coupon_id, "object": "coupon"}
    offer = RetentionOffer.objects.get(slug="discount-30-3m")
    get_backend().apply_offer("sub_rec", offer, case=case_for(customer, "sub_rec"))
    assert "POST /v1/coupons" not in recorder.calls()


def test_recorded_named_coupon_is_used_as_is(recorder, customer, catalogue):
    offer = RetentionOffer.objects.get(slug="discount-30-3m")
    offer.parameters = {"coupon": "WINBACK20"}
    get_backend().apply_offer("sub_rec", offer, case=case_for(customer, "sub_rec"))
    assert recorder.calls() == ["POST /v1/subscriptions/sub_rec"]
    assert recorder.requests[0].form["discounts[0][coupon]"] == "WINBACK20"


def test_recorded_pause_collection_until_a_date(recorder, customer, catalogue):
    offer = RetentionOffer.objects.get(slug="pause-2m")  # {"months": 2}
    before = int(time.time())
    applied = get_backend().apply_offer("sub_rec", offer, case=case_for(customer, "sub_rec"))
    after = int(time.time())
    form = recorder.requests[0].form
    assert recorder.calls() == ["POST /v1/subscriptions/sub_rec"]
    assert form["pause_collection[behavior]"] == "void"
    assert before + 60 * 86400 <= int(form["pause_collection[resumes_at]"]) <= after + 60 * 86400
    assert set(form) == {
        "pause_collection[behavior]",
        "pause_collection[resumes_at]",
        "metadata[graceful_cancel_case]",
    }
    assert "resumes_at" in applied


def test_recorded_downgrade_by_price_with_proration(recorder, customer, catalogue):
    offer = RetentionOffer.objects.get(slug="downgrade-basic")
    case = case_for(customer, "sub_rec")
    with override_settings(
        GRACEFUL_CANCEL={
            **stripe_settings("http://127.0.0.1:9"),
            "STRIPE_PRICES": {"basic": "price_basic"},
            "STRIPE_PRORATION_BEHAVIOR": "none",
        }
    ):
        get_backend().apply_offer("sub_rec", offer, case=case)
    assert recorder.calls() == ["GET /v1/subscriptions/sub_rec", "POST /v1/subscriptions/sub_rec"]
    assert recorder.requests[1].form == {
        "items[0][id]": "si_rec",
        "items[0][price]": "price_basic",
        "proration_behavior": "none",
        "metadata[graceful_cancel_case]": case.reference,
    }


def test_recorded_free_feature_adds_a_discounted_item(recorder, customer, catalogue):
    recorder.routes["POST /v1/coupons"] = lambda r: (200, {"id": r.form["id"], "object": "coupon"})
    offer = RetentionOffer.objects.get(slug="free-premium-3m")
    get_backend().apply_offer("sub_rec", offer, case=case_for(customer, "sub_rec"))
    coupon = recorder.requests[1].form
    assert (coupon["percent_off"], coupon["duration_in_months"]) == ("100.0", "3")
    update = recorder.requests[2].form
    assert update["items[0][price]"] == "price_support"
    assert update["items[0][discounts][0][coupon]"] == coupon["id"]
    assert update["items[0][metadata][graceful_cancel_feature]"] == "premium-support"
    assert "items[0][metadata][graceful_cancel_free_until]" in update
    assert update["proration_behavior"] == "none"
    assert "items[0][id]" not in update  # added next to the plan, not replacing it


def test_recorded_free_feature_without_a_price_is_refused(recorder, customer, catalogue):
    offer = RetentionOffer.objects.get(slug="free-premium-3m")
    offer.parameters = {"feature": "hd", "months": 3}
    with pytest.raises(BackendError) as raised:
        get_backend().apply_offer("sub_rec", offer, case=case_for(customer, "sub_rec"))
    assert raised.value.code == "stripe_unknown_feature"
    assert recorder.calls("POST") == []


def test_recorded_extension_moves_trial_end_without_prorations(recorder, customer, catalogue):
    offer = RetentionOffer.objects.get(slug="extension-1m")
    case = case_for(customer, "sub_rec")
    with override_settings(
        GRACEFUL_CANCEL={
            **stripe_settings("http://127.0.0.1:9"),
            "STRIPE_EXTENSION_PRORATION_BEHAVIOR": "none",
        }
    ):
        get_backend().apply_offer("sub_rec", offer, case=case)
    period_end = recorder.routes["GET /v1/subscriptions/sub_rec"]["items"]["data"][0][
        "current_period_end"
    ]
    assert recorder.calls() == ["GET /v1/subscriptions/sub_rec", "POST /v1/subscriptions/sub_rec"]
    form = recorder.requests[1].form
    assert form == {
        "trial_end": form["trial_end"],
        "proration_behavior": "none",
        "metadata[graceful_cancel_case]": case.reference,
    }
    assert int(form["trial_end"]) == period_end + 30 * 86400


def test_recorded_extension_as_a_credit(recorder, customer, catalogue):
    recorder.routes["POST /v1/customers/cus_rec/balance_transactions"] = {
        "id": "cbtxn_1",
        "object": "customer_balance_transaction",
    }
    offer = RetentionOffer.objects.get(slug="extension-1m")
    offer.parameters = {"credit_amount": 1299}
    case = case_for(customer, "sub_rec")
    applied = get_backend().apply_offer("sub_rec", offer, case=case)
    assert recorder.requests[-1].form == {
        "amount": "-1299",
        "currency": "eur",
        "description": "One month on us",
        "metadata[graceful_cancel_case]": case.reference,
    }
    assert applied["balance_transaction"] == "cbtxn_1"


def test_recorded_consultation_changes_nothing_at_stripe(recorder, customer, catalogue):
    offer = RetentionOffer.objects.get(slug="consultation-call")
    applied = get_backend().apply_offer("sub_rec", offer, case=case_for(customer, "sub_rec"))
    assert applied == {"kind": "consultation", "applied_by": "signal"}
    assert recorder.requests == []


def test_recorded_period_end_cancel_and_reactivate_requests(recorder, customer):
    case = case_for(customer, "sub_rec")
    get_backend().cancel("sub_rec", at_period_end=True, case=case)
    get_backend().reactivate("sub_rec", case=case)
    assert [r.form for r in recorder.requests] == [
        {"cancel_at_period_end": "true", "metadata[graceful_cancel_case]": case.reference},
        {"cancel_at_period_end": "false", "metadata[graceful_cancel_case]": case.reference},
    ]


def test_recorded_immediate_cancel_with_proration(recorder, customer):
    recorder.routes["DELETE /v1/subscriptions/sub_rec"] = subscription_body(status="canceled")
    with override_settings(
        GRACEFUL_CANCEL={
            **stripe_settings("http://127.0.0.1:9"),
            "STRIPE_PRORATE_ON_CANCEL": True,
        }
    ):
        get_backend().cancel("sub_rec", at_period_end=False, case=case_for(customer, "sub_rec"))
    assert recorder.calls() == ["DELETE /v1/subscriptions/sub_rec"]
    assert recorder.requests[0].query == {"prorate": "true"}


# --- cancellation feedback, written to Stripe ---------------------------------------------------


def case_with_reason(user: Any, slug: str | None, detail: str = "") -> CancellationCase:
    from django_graceful_cancel.models import Reason

    reason = Reason.objects.get(slug=slug) if slug else None
    return CancellationCase.objects.create(
        customer=user, subscription_ref="sub_rec", reason=reason, reason_detail=detail
    )


def test_recorded_period_end_cancel_sends_mapped_feedback_and_trimmed_words(
    recorder, customer, catalogue
):
    words = "Too dear for what I use. " + "x" * 600
    case = case_with_reason(customer, "price", words)
    get_backend().cancel("sub_rec", at_period_end=True, case=case)
    assert recorder.requests[0].form == {
        "cancel_at_period_end": "true",
        "metadata[graceful_cancel_case]": case.reference,
        "cancellation_details[feedback]": "too_expensive",
        "cancellation_details[comment]": words[:500],
    }


def test_recorded_immediate_cancel_sends_mapped_feedback_and_words(recorder, customer, catalogue):
    recorder.routes["DELETE /v1/subscriptions/sub_rec"] = subscription_body(status="canceled")
    case = case_with_reason(customer, "competitor", "  Found a cheaper tool.  ")
    get_backend().cancel("sub_rec", at_period_end=False, case=case)
    assert recorder.calls() == ["DELETE /v1/subscriptions/sub_rec"]
    assert recorder.requests[0].query == {
        "cancellation_details[feedback]": "switched_service",
        "cancellation_details[comment]": "Found a cheaper tool.",
    }


def test_recorded_reason_without_mapping_sends_other_and_no_empty_comment(
    recorder, customer, catalogue
):
    case = case_with_reason(customer, "competitor")
    with override_settings(
        GRACEFUL_CANCEL={
            **stripe_settings("http://127.0.0.1:9"),
            "STRIPE_SEND_CANCELLATION_DETAILS": True,
            "STRIPE_FEEDBACK_CODES": {"price": "too_expensive"},
        }
    ):
        get_backend().cancel("sub_rec", at_period_end=True, case=case)
    assert recorder.requests[0].form == {
        "cancel_at_period_end": "true",
        "metadata[graceful_cancel_case]": case.reference,
        "cancellation_details[feedback]": "other",
    }


def test_recorded_words_without_a_reason_send_no_feedback(recorder, customer):
    case = case_with_reason(customer, None, "Just because")
    get_backend().cancel("sub_rec", at_period_end=True, case=case)
    form = recorder.requests[0].form
    assert form["cancellation_details[comment]"] == "Just because"
    assert "cancellation_details[feedback]" not in form


def test_recorded_cancel_sends_no_details_when_turned_off(recorder, customer, catalogue):
    case = case_with_reason(customer, "price", "Too dear")
    with override_settings(
        GRACEFUL_CANCEL={
            **stripe_settings("http://127.0.0.1:9"),
            "STRIPE_SEND_CANCELLATION_DETAILS": False,
        }
    ):
        get_backend().cancel("sub_rec", at_period_end=True, case=case)
    assert not any(key.startswith("cancellation_details") for key in recorder.requests[0].form)


def test_shipped_reasons_all_have_a_feedback_code(catalogue):
    from django_graceful_cancel.backends.stripe import DEFAULT_FEEDBACK_CODES, reason_for_feedback
    from django_graceful_cancel.models import Reason

    assert set(Reason.objects.values_list("slug", flat=True)) <= set(DEFAULT_FEEDBACK_CODES)
    assert reason_for_feedback("too_expensive") == "price"
    assert reason_for_feedback("switched_service") == "competitor"
    assert reason_for_feedback("made_up") == "other"
    assert reason_for_feedback("") is None


def test_settings_checks_reject_an_unknown_feedback_code():
    from django_graceful_cancel.checks import check_settings

    bad = gc_settings(STRIPE_FEEDBACK_CODES={"price": "too_pricey"})
    with override_settings(GRACEFUL_CANCEL=bad):
        messages = [e.msg for e in check_settings() if e.id == "graceful_cancel.E003"]
    assert any("STRIPE_FEEDBACK_CODES" in m for m in messages)


@pytest.mark.parametrize(
    ("status", "kind", "code", "expected_code", "transient", "sdk_error"),
    [
        (402, "card_error", "card_declined", "stripe_card_error", False, stripe.CardError),
        (429, "invalid_request_error", "rate_limit", "stripe_rate_limited", True, None),
        (400, "invalid_request_error", "parameter_invalid", "stripe_invalid_request", False, None),
        (404, "invalid_request_error", "resource_missing", "stripe_not_found", False, None),
        (401, "invalid_request_error", "", "stripe_authentication", False, None),
        (403, "invalid_request_error", "", "stripe_permission", False, None),
        (400, "idempotency_error", "", "stripe_idempotency", False, stripe.IdempotencyError),
        (500, "api_error", "", "stripe_api_error", True, stripe.APIError),
    ],
)
def test_recorded_errors_map_to_backend_errors(
    recorder, customer, status, kind, code, expected_code, transient, sdk_error
):
    recorder.routes["POST /v1/subscriptions/sub_rec"] = lambda r: (
        status,
        error_body(kind, code, "Your card was declined."),
    )
    with pytest.raises(BackendError) as raised:
        get_backend().cancel("sub_rec", at_period_end=True, case=case_for(customer, "sub_rec"))
    assert (raised.value.code, raised.value.transient) == (expected_code, transient)
    assert isinstance(raised.value.__cause__, sdk_error or stripe.StripeError)


def test_error_message_keeps_stripes_words():
    error = backend_error_from(stripe.CardError("Your card was declined.", None, "card_declined"))
    assert "Your card was declined." in str(error)
    assert error.transient is False


def test_system_check_e006_for_an_unusable_stripe_backend():
    from django_graceful_cancel.checks import check_settings

    def e006(**overrides: Any) -> list[str]:
        with override_settings(
            GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=BACKEND, **overrides)
        ):
            return [e.msg for e in check_settings() if e.id == "graceful_cancel.E006"]

    missing = e006(STRIPE_API_KEY=None, STRIPE_CUSTOMER_LOOKUP=None)
    assert any("STRIPE_API_KEY" in m for m in missing)
    assert any("STRIPE_CUSTOMER_LOOKUP" in m for m in missing)
    assert e006(STRIPE_API_KEY="sk_test_x", STRIPE_CUSTOMER_LOOKUP="last_name") == []


def test_newest_of_several_live_subscriptions_is_the_active_one(subscriber, on_localstripe):
    client = on_localstripe.client()
    customer_id = subscriber.last_name
    time.sleep(1.1)  # localstripe's "created" has one-second resolution
    newer = client.v1.subscriptions.create(
        {"customer": customer_id, "items": [{"plan": "premium-monthly"}]}
    )
    info = get_backend().get_active_subscription(subscriber)
    assert info.reference == newer.id
    assert info.plan_code == "premium"


def test_recorded_zero_decimal_currency_is_not_divided(recorder):
    body = subscription_body(amount=1500)
    body["items"]["data"][0]["price"]["currency"] = "jpy"
    recorder.routes["GET /v1/subscriptions/sub_rec"] = body
    info = get_backend().get_subscription("sub_rec")
    assert (info.price, info.currency) == (Decimal("1500"), "JPY")
