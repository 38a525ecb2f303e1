"""Changes made at Stripe, outside the flow: the services that record them, the signed webhook
view, the dj-stripe receiver, and localstripe delivering a real signed event to a live server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services, signals
from django_graceful_cancel.backends.stripe.webhooks import (
    connect_djstripe,
    djstripe_receiver,
    handle_event,
)
from django_graceful_cancel.choices import (
    CaseStatus,
    EffectiveMode,
    EventKind,
    OfferOutcome,
    SyncStatus,
)
from django_graceful_cancel.models import CancellationCase, OfferPresentation, RetentionOffer
from django_graceful_cancel.services import cases as cases_services
from tests.support import gc_settings, require_service
from tests.support.stripe import seed_customer, stripe_settings

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_graceful_cancel"
URL = "/billing/stripe/webhook/"


@pytest.fixture(autouse=True)
def webhook_secret() -> Any:
    with override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_WEBHOOK_SECRET=SECRET)):
        yield


def make_case(user: Any, ref: str = "sub_ext", **fields: Any) -> CancellationCase:
    defaults = {"period_end": timezone.now() + timedelta(days=20)}
    return CancellationCase.objects.create(
        customer=user, subscription_ref=ref, **{**defaults, **fields}
    )


def kinds(case: CancellationCase) -> list[str]:
    return list(case.events.order_by("pk").values_list("kind", flat=True))


class Captured(list):
    def __call__(self, **kwargs: Any) -> None:
        self.append(kwargs)


@pytest.fixture
def sent() -> Any:
    captured: dict[str, Captured] = {
        name: Captured() for name in ("case_cancelled", "case_reactivated", "external")
    }
    signals.case_cancelled.connect(captured["case_cancelled"])
    signals.case_reactivated.connect(captured["case_reactivated"])
    signals.external_change_recorded.connect(captured["external"])
    yield captured
    signals.case_cancelled.disconnect(captured["case_cancelled"])
    signals.case_reactivated.disconnect(captured["case_reactivated"])
    signals.external_change_recorded.disconnect(captured["external"])


# --- services ----------------------------------------------------------------------------------


def test_open_case_becomes_cancelled_and_its_offer_declined(
    customer, catalogue, sent, django_capture_on_commit_callbacks
):
    case = make_case(customer)
    offer = RetentionOffer.objects.get(slug="discount-30-3m")
    OfferPresentation.objects.create(case=case, offer=offer, customer=customer)
    end = timezone.now() + timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        result = services.record_external_cancellation(
            "sub_ext", immediately=False, effective_at=end, event_id="evt_1"
        )
    case.refresh_from_db()
    assert result == case
    assert case.status == CaseStatus.CANCELLED
    assert case.effective_mode == EffectiveMode.PERIOD_END and case.effective_at == end
    assert case.provider_sync == SyncStatus.SYNCED  # Stripe already has it: nothing to send
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert kinds(case) == [EventKind.OFFER_DECLINED, EventKind.CANCELLED]
    event = case.events.get(kind=EventKind.CANCELLED)
    assert event.actor_label == "stripe"
    assert event.data["external"] is True and event.data["event_id"] == "evt_1"
    assert len(sent["case_cancelled"]) == 1
    assert sent["case_cancelled"][0]["external"] is True
    assert sent["case_cancelled"][0]["source"] == "stripe"


def test_same_event_twice_is_recorded_once(customer, sent, django_capture_on_commit_callbacks):
    case = make_case(customer)
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        for _ in range(2):
            services.record_external_cancellation("sub_ext", immediately=True, event_id="evt_dup")
    assert kinds(case) == [EventKind.CANCELLED]
    assert len(sent["case_cancelled"]) == 1


def test_reactivated_case_is_cancelled_again(customer):
    case = make_case(customer, status=CaseStatus.REACTIVATED)
    services.record_external_cancellation("sub_ext", immediately=True, event_id="evt_2")
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.effective_mode == EffectiveMode.IMMEDIATELY
    assert case.events.get().data["previous_status"] == CaseStatus.REACTIVATED


def test_pending_sync_is_completed_by_the_providers_word(
    customer, sent, django_capture_on_commit_callbacks
):
    end = timezone.now() + timedelta(days=20)
    case = make_case(
        customer,
        status=CaseStatus.CANCELLED,
        provider_sync=SyncStatus.PENDING,
        effective_mode=EffectiveMode.PERIOD_END,
        effective_at=end,
    )
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        services.record_external_cancellation("sub_ext", immediately=False, effective_at=end)
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert case.events.get().data["change"] == "sync_completed"
    assert sent["external"][0]["change"] == "sync_completed"
    assert cases_services.pending_sync_cases() == []


def test_cancelled_case_ended_early_at_stripe(customer, sent, django_capture_on_commit_callbacks):
    case = make_case(
        customer,
        status=CaseStatus.CANCELLED,
        provider_sync=SyncStatus.SYNCED,
        effective_mode=EffectiveMode.PERIOD_END,
        effective_at=timezone.now() + timedelta(days=20),
    )
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        services.record_external_cancellation("sub_ext", immediately=True, event_id="evt_3")
    case.refresh_from_db()
    assert case.effective_mode == EffectiveMode.IMMEDIATELY
    assert case.effective_at <= timezone.now()
    assert case.status == CaseStatus.CANCELLED
    assert sent["external"][0]["change"] == "ended_early"


def test_echo_of_the_flows_own_cancellation_records_nothing(
    customer, sent, django_capture_on_commit_callbacks
):
    end = timezone.now() + timedelta(days=20)
    case = make_case(
        customer,
        status=CaseStatus.CANCELLED,
        provider_sync=SyncStatus.SYNCED,
        effective_mode=EffectiveMode.PERIOD_END,
        effective_at=end,
    )
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        services.record_external_cancellation("sub_ext", immediately=False, effective_at=end)
    assert kinds(case) == []
    assert sent["external"] == [] and sent["case_cancelled"] == []


def test_saved_case_keeps_its_status_and_records_the_change(
    customer, sent, django_capture_on_commit_callbacks
):
    case = make_case(customer, status=CaseStatus.SAVED)
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        services.record_external_cancellation("sub_ext", immediately=True, event_id="evt_4")
    case.refresh_from_db()
    assert case.status == CaseStatus.SAVED
    assert kinds(case) == [EventKind.EXTERNAL_CHANGE]
    assert sent["external"][0]["change"] == "cancelled"
    assert sent["external"][0]["event_id"] == "evt_4"


def test_no_case_for_the_subscription_is_none(db):
    assert services.record_external_cancellation("sub_unknown", immediately=True) is None
    assert services.record_external_reactivation("sub_unknown") is None


def test_renewal_at_stripe_reactivates_a_cancelled_case(
    customer, sent, django_capture_on_commit_callbacks
):
    case = make_case(
        customer,
        status=CaseStatus.CANCELLED,
        provider_sync=SyncStatus.SYNCED,
        effective_at=timezone.now() + timedelta(days=20),
    )
    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        services.record_external_reactivation("sub_ext", event_id="evt_5")
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    assert case.provider_sync == SyncStatus.SYNCED
    assert kinds(case) == [EventKind.REACTIVATED]
    assert sent["case_reactivated"][0]["external"] is True


def test_renewal_after_the_end_or_echo_changes_nothing(customer):
    ended = make_case(
        customer,
        status=CaseStatus.CANCELLED,
        effective_at=timezone.now() - timedelta(days=1),
    )
    services.record_external_reactivation("sub_ext")
    ended.refresh_from_db()
    assert ended.status == CaseStatus.CANCELLED
    echo = make_case(customer, ref="sub_echo", status=CaseStatus.REACTIVATED)
    services.record_external_reactivation("sub_echo")
    assert kinds(echo) == []


def test_pending_reactivation_sync_is_completed(customer):
    case = make_case(customer, status=CaseStatus.REACTIVATED, provider_sync=SyncStatus.PENDING)
    services.record_external_reactivation("sub_ext")
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert case.events.get().data["change"] == "sync_completed"


# --- the event handler -------------------------------------------------------------------------


def sub_event(kind: str, sub: dict[str, Any], previous: dict[str, Any] | None = None) -> dict:
    data: dict[str, Any] = {"object": {"id": "sub_ext", "object": "subscription", **sub}}
    if previous is not None:
        data["previous_attributes"] = previous
    return {"id": f"evt_{time.monotonic_ns()}", "type": kind, "data": data}


def test_portal_cancel_at_period_end_event(customer):
    case = make_case(customer)
    end = int((timezone.now() + timedelta(days=9)).timestamp())
    event = sub_event(
        "customer.subscription.updated",
        {
            "status": "active",
            "cancel_at_period_end": True,
            "cancel_at": end,
            "items": {"data": [{"current_period_end": end}]},
        },
        {"cancel_at_period_end": False, "cancel_at": None},
    )
    assert handle_event(event) == case
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert int(case.effective_at.timestamp()) == end


def test_portal_renewal_event(customer):
    case = make_case(
        customer, status=CaseStatus.CANCELLED, effective_at=timezone.now() + timedelta(days=9)
    )
    handle_event(
        sub_event(
            "customer.subscription.updated",
            {"status": "active", "cancel_at_period_end": False, "cancel_at": None},
            {"cancel_at_period_end": True},
        )
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED


def test_unrelated_updates_and_events_are_ignored(customer):
    case = make_case(customer)
    assert handle_event(sub_event("customer.subscription.updated", {}, {"quantity": 1})) is None
    assert handle_event(sub_event("invoice.paid", {"cancel_at_period_end": True})) is None
    assert handle_event({"type": "customer.subscription.deleted", "data": {}}) is None
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_djstripe_receiver_uses_the_same_handler(customer):
    case = make_case(customer)
    event = sub_event("customer.subscription.deleted", {"status": "canceled"})
    djstripe_receiver(sender=None, event=SimpleNamespace(**event))
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert connect_djstripe() is False  # dj-stripe is not installed in this suite


# --- the signed webhook view -------------------------------------------------------------------


def sign(payload: bytes, secret: str = SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


def post(client: Any, payload: bytes, signature: str | None) -> Any:
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, data=payload, content_type="application/json", **headers)


def test_url_is_mounted_by_the_example_site():
    assert reverse("graceful_cancel_stripe_webhook") == URL


def test_signed_deleted_event_cancels_the_case(client, customer):
    case = make_case(customer)
    payload = json.dumps(sub_event("customer.subscription.deleted", {"status": "canceled"}))
    response = post(client, payload.encode(), sign(payload.encode()))
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=deadbeef",
        "wrong-secret",
        "too-old",
    ],
)
def test_bad_signatures_are_refused_and_change_nothing(client, customer, signature):
    case = make_case(customer)
    payload = json.dumps(sub_event("customer.subscription.deleted", {})).encode()
    if signature == "wrong-secret":
        signature = sign(payload, secret="whsec_other")
    elif signature == "too-old":
        signature = sign(payload, at=int(time.time()) - 3600)
    assert post(client, payload, signature).status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_tampered_body_is_refused(client, customer):
    case = make_case(customer)
    payload = json.dumps(sub_event("customer.subscription.updated", {})).encode()
    signature = sign(payload)
    tampered = json.dumps(sub_event("customer.subscription.deleted", {})).encode()
    assert post(client, tampered, signature).status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_without_a_secret_every_webhook_is_refused(client, customer):
    payload = json.dumps(sub_event("customer.subscription.deleted", {})).encode()
    with override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_WEBHOOK_SECRET=None)):
        assert post(client, payload, sign(payload)).status_code == 503


def test_only_post(client):
    assert client.get(URL).status_code == 405


# --- localstripe delivers a real signed event --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_cancelling_in_stripe_reaches_the_case_through_the_webhook(
    localstripe, live_server, make_customer, catalogue
):
    require_service("localstripe", localstripe is not None)
    client = localstripe.client()
    customer_id, sub_id = seed_customer(client, f"portal{time.monotonic_ns()}@example.com")
    user = make_customer(subscribed=False, last_name=customer_id)
    settings = {**stripe_settings(localstripe.url), "STRIPE_WEBHOOK_SECRET": SECRET}
    with override_settings(GRACEFUL_CANCEL=settings):
        case, _ = services.start_case(user)
        # localstripe signs and posts every event to the registered endpoint (after ~1s).
        import requests

        def register(url: str) -> None:
            requests.post(
                f"{localstripe.url}/_config/webhooks/graceful_cancel",
                data={"url": url, "secret": SECRET},
                timeout=10,
            ).raise_for_status()

        register(live_server.url + URL)
        try:
            client.v1.subscriptions.cancel(sub_id)  # "the customer cancelled in the portal"
            # Wait for the delivery, bounded: the assertion is on the case, not on a duration.
            for _ in range(300):
                case.refresh_from_db()
                if case.status != CaseStatus.OPEN:
                    break
                time.sleep(0.05)
        finally:
            # Later tests' events must not reach this (session-wide) live server.
            register("http://127.0.0.1:9/")
    assert case.status == CaseStatus.CANCELLED
    assert case.effective_mode == EffectiveMode.IMMEDIATELY
    cancelled = case.events.get(kind=EventKind.CANCELLED)
    assert cancelled.data["external"] is True
    assert cancelled.data["event_id"].startswith("evt_")


# --- dj-stripe, through stand-in modules with dj-stripe 2.11's interface -----------------------
# dj-stripe 2.11 pins stripe<16, so it cannot be installed next to this suite's SDK; these
# stand-ins have the parts the app uses: djstripe.signals.WEBHOOK_SIGNALS (a Signal per event
# type, sent with event=<Event with id, type, data>) and djstripe.models.Customer.subscriber.


@pytest.fixture
def fake_djstripe(monkeypatch: Any) -> Any:
    import sys
    from types import ModuleType

    from django.dispatch import Signal

    signals_module = ModuleType("djstripe.signals")
    signals_module.WEBHOOK_SIGNALS = {  # type: ignore[attr-defined]
        "customer.subscription.deleted": Signal(),
        "customer.subscription.updated": Signal(),
        "invoice.paid": Signal(),
    }

    class FakeQuerySet(list):
        def filter(self, **kwargs: Any) -> FakeQuerySet:
            user = kwargs.get("subscriber")
            return FakeQuerySet(c for c in self if user is None or c.subscriber == user)

        def order_by(self, *args: Any) -> FakeQuerySet:
            return self

        def first(self) -> Any:
            return self[0] if self else None

    class Customer:
        objects = FakeQuerySet()

        class _meta:
            @staticmethod
            def get_fields() -> list[Any]:
                return [SimpleNamespace(name="subscriber"), SimpleNamespace(name="id")]

    settings_module = ModuleType("djstripe.settings")
    settings_module.djstripe_settings = SimpleNamespace(  # type: ignore[attr-defined]
        STRIPE_SECRET_KEY="sk_test_from_djstripe"
    )
    monkeypatch.setitem(sys.modules, "djstripe.settings", settings_module)
    models_module = ModuleType("djstripe.models")
    models_module.Customer = Customer  # type: ignore[attr-defined]
    package = ModuleType("djstripe")
    monkeypatch.setitem(sys.modules, "djstripe", package)
    monkeypatch.setitem(sys.modules, "djstripe.signals", signals_module)
    monkeypatch.setitem(sys.modules, "djstripe.models", models_module)
    return SimpleNamespace(signals=signals_module.WEBHOOK_SIGNALS, Customer=Customer)


def test_djstripe_signals_reach_the_cases(fake_djstripe, customer):
    case = make_case(customer)
    assert connect_djstripe() is True
    event = SimpleNamespace(**sub_event("customer.subscription.deleted", {"status": "canceled"}))
    fake_djstripe.signals["customer.subscription.deleted"].send(sender=object, event=event)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.events.get(kind=EventKind.CANCELLED).data["event_id"] == event.id


def test_djstripe_customer_is_the_default_lookup(fake_djstripe, customer, make_customer):
    from django_graceful_cancel.backends.stripe import customer_id_for

    fake_djstripe.Customer.objects.append(SimpleNamespace(id="cus_dj", subscriber=customer))
    with override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_CUSTOMER_LOOKUP=None)):
        assert customer_id_for(customer) == "cus_dj"
        assert customer_id_for(make_customer(subscribed=False)) is None


def test_update_to_canceled_status_is_a_cancellation(customer):
    case = make_case(customer)
    handle_event(sub_event("customer.subscription.updated", {"status": "canceled"}, {}))
    case.refresh_from_db()
    assert (case.status, case.effective_mode) == (CaseStatus.CANCELLED, EffectiveMode.IMMEDIATELY)


def test_djstripe_secret_key_is_used_when_no_key_is_set(fake_djstripe, monkeypatch):
    from django_graceful_cancel.backends import get_backend
    from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend
    from tests.support.stripe import RecordingHTTPClient, subscription_body

    recorder = RecordingHTTPClient(routes={"GET /v1/subscriptions/sub_rec": subscription_body()})
    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", recorder)
    settings = gc_settings(
        SUBSCRIPTION_BACKEND="django_graceful_cancel.backends.stripe.StripeSubscriptionBackend",
        STRIPE_API_KEY=None,
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    with override_settings(GRACEFUL_CANCEL=settings):
        get_backend().get_subscription("sub_rec")
    assert recorder.requests[0].headers["Authorization"] == "Bearer sk_test_from_djstripe"


# --- cancellation feedback, read from Stripe's portal -------------------------------------------


def portal_cancel(details: dict[str, Any] | None) -> dict[str, Any]:
    """A ``customer.subscription.updated`` event as the portal sends it on a cancellation at the
    end of the period, with the customer's ``cancellation_details``."""
    end = int((timezone.now() + timedelta(days=9)).timestamp())
    sub: dict[str, Any] = {
        "status": "active",
        "cancel_at_period_end": True,
        "cancel_at": end,
        "items": {"data": [{"current_period_end": end}]},
    }
    if details is not None:
        sub["cancellation_details"] = {"reason": "cancellation_requested", **details}
    return sub_event("customer.subscription.updated", sub, {"cancel_at_period_end": False})


def test_signed_portal_cancellation_records_the_mapped_reason_and_words(
    client, customer, catalogue
):
    case = make_case(customer)
    event = portal_cancel({"feedback": "too_expensive", "comment": "Twice the price of X."})
    payload = json.dumps(event).encode()
    assert post(client, payload, sign(payload)).status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.reason is not None and case.reason.slug == "price"
    assert case.reason_detail == "Twice the price of X."
    assert kinds(case) == [EventKind.REASON_RECORDED, EventKind.CANCELLED]
    assert case.events.get(kind=EventKind.REASON_RECORDED).data["reason"] == "price"
    assert case.events.get(kind=EventKind.CANCELLED).data["feedback"] == "too_expensive"


def test_portal_deletion_with_unknown_feedback_records_other(customer, catalogue):
    case = make_case(customer)
    event = sub_event(
        "customer.subscription.deleted",
        {
            "status": "canceled",
            "cancellation_details": {"feedback": "brand_new_code", "comment": None},
        },
    )
    handle_event(event)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.reason is not None and case.reason.slug == "other"
    assert case.reason_detail == ""


def test_feedback_no_slug_maps_to_is_other(customer, catalogue):
    case = make_case(customer)
    with override_settings(
        GRACEFUL_CANCEL=gc_settings(
            STRIPE_WEBHOOK_SECRET=SECRET, STRIPE_FEEDBACK_CODES={"price": "too_expensive"}
        )
    ):
        handle_event(portal_cancel({"feedback": "unused", "comment": ""}))
    case.refresh_from_db()
    assert case.reason is not None and case.reason.slug == "other"


@pytest.mark.parametrize("details", [None, {"feedback": None, "comment": None}])
def test_portal_cancellation_without_feedback_records_no_reason(customer, catalogue, details):
    case = make_case(customer)
    handle_event(portal_cancel(details))
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.reason is None and case.reason_detail == ""
    assert kinds(case) == [EventKind.CANCELLED]
    assert "feedback" not in case.events.get().data


def test_reason_given_in_the_flow_is_kept(customer, catalogue):
    case = make_case(customer)
    services.record_reason(case, "quality", detail="It kept crashing")
    handle_event(portal_cancel({"feedback": "too_expensive", "comment": "meh"}))
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.reason is not None and case.reason.slug == "quality"
    assert case.reason_detail == "It kept crashing"
    assert kinds(case) == [EventKind.REASON_RECORDED, EventKind.CANCELLED]
