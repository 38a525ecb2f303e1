"""The example site on the Stripe backend, against localstripe: seed_stripe, the demo's customer
lookup, the account page and the flow's pages reading and changing Stripe."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from django_graceful_cancel.choices import CaseStatus, SyncStatus
from django_graceful_cancel.models import CancellationCase
from shop.billing import stripe_customer_id
from tests.support import STRIPE_API_KEY, free_port, gc_settings, require_service

pytestmark = pytest.mark.django_db

BACKEND = "django_graceful_cancel.backends.stripe.StripeSubscriptionBackend"


def demo_settings(url: str) -> dict[str, Any]:
    """What config/settings.py sets with GRACEFUL_CANCEL_BACKEND=stripe, on this server."""
    return gc_settings(
        SUBSCRIPTION_BACKEND=BACKEND,
        STRIPE_API_KEY=STRIPE_API_KEY,
        STRIPE_API_BASE=url,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_WEBHOOK_SECRET="whsec_demo",
        STRIPE_CUSTOMER_LOOKUP="shop.billing.stripe_customer_id",
        STRIPE_PRICES={
            "basic": "basic-monthly",
            "standard": "standard-monthly",
            "premium": "premium-monthly",
        },
        STRIPE_FEATURE_PRICES={"premium-support": "premium-support-monthly"},
        STRIPE_EXTENSION_PRORATION_BEHAVIOR=None,
        STRIPE_SEND_CANCELLATION_DETAILS=False,
    )


@pytest.fixture
def demo(localstripe: Any, django_user_model: Any) -> Any:
    require_service("localstripe", localstripe is not None)
    call_command("load_demo_data", cases=0, stdout=StringIO())
    with override_settings(GRACEFUL_CANCEL=demo_settings(localstripe.url)):
        call_command("seed_stripe", stdout=StringIO())
        yield localstripe


def test_seed_creates_a_customer_and_subscription_per_demo_user_once(demo, django_user_model):
    client = demo.client()
    alice = django_user_model.objects.get(username="alice")
    customer_id = stripe_customer_id(alice)
    assert customer_id is not None
    subs = client.v1.subscriptions.list({"customer": customer_id}).data
    assert [s["items"]["data"][0]["plan"]["id"] for s in subs] == ["premium-monthly"]
    out = StringIO()
    call_command("seed_stripe", stdout=out)
    assert "0 new subscriptions" in out.getvalue()
    assert len(client.v1.subscriptions.list({"customer": customer_id}).data) == 1


def test_seed_refuses_a_live_key(demo):
    settings = {**demo_settings(demo.url), "STRIPE_API_KEY": "sk_live_nope"}
    with override_settings(GRACEFUL_CANCEL=settings), pytest.raises(CommandError):
        call_command("seed_stripe", stdout=StringIO())


def test_account_page_shows_the_stripe_subscription(demo, client, django_user_model):
    bruno = django_user_model.objects.get(username="bruno")
    client.force_login(bruno)
    page = client.get("/account/").content.decode()
    assert "Standard" in page and "12.99" in page


def test_the_pages_cancel_and_reactivate_on_stripe(demo, client, django_user_model):
    carla = django_user_model.objects.get(username="carla")
    client.force_login(carla)
    assert client.get(reverse("graceful_cancel:start")).status_code == 200
    response = client.post(
        reverse("graceful_cancel:start"), {"action": "continue", "reason": "no-longer-needed"}
    )
    case = CancellationCase.objects.get(customer=carla)
    assert response["Location"] == reverse("graceful_cancel:offer", args=[case.reference])
    assert case.plan_code == "standard" and case.subscription_ref.startswith("sub_")
    response = client.post(reverse("graceful_cancel:confirm", args=[case.reference]))
    assert response["Location"] == reverse("graceful_cancel:done", args=[case.reference])
    case.refresh_from_db()
    assert (case.status, case.provider_sync) == (CaseStatus.CANCELLED, SyncStatus.SYNCED)
    remote = demo.client().v1.subscriptions
    assert remote.retrieve(case.subscription_ref).cancel_at_period_end is True
    assert "ends at the end of the period" in client.get("/account/").content.decode()

    client.post(reverse("graceful_cancel:reactivate", args=[case.reference]))
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    assert remote.retrieve(case.subscription_ref).cancel_at_period_end is False


def test_accepting_the_downgrade_page_changes_the_plan_at_stripe(demo, client, django_user_model):
    elena = django_user_model.objects.get(username="elena")  # premium
    client.force_login(elena)
    client.post(reverse("graceful_cancel:start"), {"action": "continue", "reason": "competitor"})
    case = CancellationCase.objects.get(customer=elena)
    assert case.offer_presentation.offer.slug == "downgrade-basic"
    response = client.post(reverse("graceful_cancel:accept", args=[case.reference]))
    assert response["Location"] == reverse("graceful_cancel:saved", args=[case.reference])
    sub = demo.client().v1.subscriptions.retrieve(case.subscription_ref)
    assert sub["items"]["data"][0]["plan"]["id"] == "basic-monthly"


def test_an_offer_localstripe_cannot_apply_is_a_clear_page(demo, client, django_user_model):
    bruno = django_user_model.objects.get(username="bruno")
    client.force_login(bruno)
    client.post(reverse("graceful_cancel:start"), {"action": "continue", "reason": "temporary"})
    case = CancellationCase.objects.get(customer=bruno)
    assert case.offer_presentation.offer.kind == "pause"
    response = client.post(reverse("graceful_cancel:accept", args=[case.reference]))
    assert response.status_code == 503  # localstripe has no pause_collection: a 5xx from it
    assert "could not apply the offer" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    sub = demo.client().v1.subscriptions.retrieve(case.subscription_ref)
    assert sub.status == "active" and sub.cancel_at_period_end is False


def test_stripe_down_on_the_start_page_is_a_clear_page(demo, client, django_user_model):
    client.force_login(django_user_model.objects.get(username="alice"))
    dead = {**demo_settings(f"http://127.0.0.1:{free_port()}")}
    with override_settings(GRACEFUL_CANCEL=dead):
        response = client.get(reverse("graceful_cancel:start"))
    assert response.status_code == 503
    assert not CancellationCase.objects.filter(customer__username="alice").exists()


def test_stripe_down_on_the_account_page_keeps_the_page_and_the_cancel_link(
    demo, client, django_user_model
):
    client.force_login(django_user_model.objects.get(username="alice"))
    dead = {**demo_settings(f"http://127.0.0.1:{free_port()}")}
    with override_settings(GRACEFUL_CANCEL=dead):
        response = client.get(reverse("shop:account"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot reach our billing system" in page
    assert reverse("graceful_cancel:start") in page
