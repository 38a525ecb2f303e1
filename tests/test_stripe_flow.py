"""The whole flow through the service layer on the Stripe backend, against localstripe: what the
customer does changes the subscription on the server, and a Stripe failure at confirm time
never loses the cancellation (pending sync, then a retry completes it)."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome, SyncStatus
from tests.support import free_port, require_service
from tests.support.stripe import RecordingHTTPClient, error_body, seed_customer, stripe_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def server(localstripe: Any) -> Any:
    require_service("localstripe", localstripe is not None, "tests/localstripe_server.py")
    with override_settings(GRACEFUL_CANCEL=stripe_settings(localstripe.url)):
        yield localstripe


@pytest.fixture
def subscriber(server: Any, make_customer: Any, catalogue: Any) -> Any:
    customer_id, sub_id = seed_customer(server.client(), f"flow{time.monotonic_ns()}@example.com")
    user = make_customer(subscribed=False, last_name=customer_id)
    user.sub_id = sub_id
    return user


def remote(server: Any, sub_id: str) -> Any:
    return server.client().v1.subscriptions.retrieve(sub_id)


def last_event(case: Any) -> Any:
    return case.events.order_by("-pk").first()


def test_start_snapshots_the_stripe_subscription(subscriber, server):
    case, created = services.start_case(subscriber)
    assert created
    assert case.subscription_ref == subscriber.sub_id
    assert (case.plan_code, str(case.price), case.currency) == ("standard", "12.99", "EUR")
    assert case.period_end is not None
    assert case.period_end.timestamp() == remote(server, subscriber.sub_id)["current_period_end"]


def test_decline_then_confirm_cancels_at_period_end_then_reactivate(subscriber, server):
    case, _ = services.start_case(subscriber)
    services.record_reason(case, "price", detail="Too expensive for me")
    presentation = services.present_offer(case)
    assert presentation is not None and presentation.offer.kind == "discount"
    services.decline_offer(case)
    case = services.confirm_cancellation(case)
    assert case.status == CaseStatus.CANCELLED
    assert case.provider_sync == SyncStatus.SYNCED
    sub = remote(server, subscriber.sub_id)
    assert sub.cancel_at_period_end is True and sub.status == "active"

    case = services.reactivate(case)
    assert case.status == CaseStatus.REACTIVATED
    assert case.provider_sync == SyncStatus.SYNCED
    assert remote(server, subscriber.sub_id).cancel_at_period_end is False


def test_confirm_immediately_ends_the_subscription(subscriber, server):
    case, _ = services.start_case(subscriber)
    services.confirm_cancellation(case, effective="immediately")
    assert remote(server, subscriber.sub_id).status == "canceled"


def test_accepting_a_downgrade_changes_the_plan_at_stripe(subscriber, server):
    case, _ = services.start_case(subscriber)
    services.record_reason(case, "competitor")
    presentation = services.present_offer(case)
    assert presentation.offer.slug == "downgrade-basic"
    case = services.accept_offer(case)
    assert case.status == CaseStatus.SAVED
    presentation.refresh_from_db()
    assert presentation.outcome == OfferOutcome.ACCEPTED
    assert presentation.applied["price"] == "basic-monthly"
    assert remote(server, subscriber.sub_id)["items"]["data"][0]["plan"]["id"] == "basic-monthly"


def test_accepting_an_extension_moves_the_next_invoice(subscriber, server):
    from django_graceful_cancel.models import Reason, RetentionOffer

    RetentionOffer.objects.get(slug="extension-1m").reasons.add(Reason.objects.get(slug="other"))
    case, _ = services.start_case(subscriber)
    services.record_reason(case, "other", detail="Just checking")
    assert services.present_offer(case).offer.slug == "extension-1m"
    services.accept_offer(case)
    sub = remote(server, subscriber.sub_id)
    assert sub["trial_end"] == sub["current_period_end"] + 30 * 86400


def test_stripe_down_at_confirm_keeps_the_cancellation_and_the_retry_completes_it(
    subscriber, server
):
    case, _ = services.start_case(subscriber)
    dead = stripe_settings(f"http://127.0.0.1:{free_port()}")
    with override_settings(GRACEFUL_CANCEL=dead):
        case = services.confirm_cancellation(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.provider_sync == SyncStatus.PENDING
    assert case.provider_sync_attempts == 1
    failed = last_event(case)
    assert failed.kind == EventKind.PROVIDER_SYNC_FAILED
    assert (failed.data["code"], failed.data["transient"]) == ("stripe_unreachable", True)
    assert remote(server, subscriber.sub_id).cancel_at_period_end is False

    out = StringIO()
    # The retry waits out the back-off after a failure (services.sync_backoff).
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        call_command("graceful_cancel_sync", stdout=out)
    assert "1 of 1" in out.getvalue()
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert last_event(case).kind == EventKind.PROVIDER_SYNCED
    assert remote(server, subscriber.sub_id).cancel_at_period_end is True


def test_card_error_at_confirm_is_permanent_but_the_case_stays_cancelled(
    subscriber, server, monkeypatch
):
    case, _ = services.start_case(subscriber)
    declined = RecordingHTTPClient(
        routes={
            f"POST /v1/subscriptions/{subscriber.sub_id}": lambda r: (
                402,
                error_body("card_error", "card_declined", "Your card was declined."),
            )
        }
    )
    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", declined)
    case = services.confirm_cancellation(case, effective="period_end")
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.provider_sync == SyncStatus.PENDING
    assert "Your card was declined." in case.provider_sync_error
    failed = last_event(case)
    assert (failed.data["code"], failed.data["transient"]) == ("stripe_card_error", False)

    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", None)
    case = services.retry_provider_sync(case)
    assert case.provider_sync == SyncStatus.SYNCED
    assert remote(server, subscriber.sub_id).cancel_at_period_end is True


def test_failed_offer_leaves_the_case_open_and_stripe_unchanged(subscriber, server, monkeypatch):
    case, _ = services.start_case(subscriber)
    services.record_reason(case, "competitor")
    services.present_offer(case)
    limited = RecordingHTTPClient(
        routes={
            f"GET /v1/subscriptions/{subscriber.sub_id}": lambda r: (
                429,
                error_body("invalid_request_error", "rate_limit", "Too many requests"),
            )
        }
    )
    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", limited)
    from django_graceful_cancel.exceptions import BackendError

    with pytest.raises(BackendError) as raised:
        services.accept_offer(case)
    assert raised.value.transient is True
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.offer_presentation.outcome == OfferOutcome.PRESENTED
    monkeypatch.setattr(StripeSubscriptionBackend, "http_client", None)
    assert remote(server, subscriber.sub_id)["items"]["data"][0]["plan"]["id"] == (
        "standard-monthly"
    )
