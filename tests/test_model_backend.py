"""The model backend against host models of three shapes, through the whole service layer."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.backends.model import ModelSubscriptionBackend
from django_graceful_cancel.choices import CaseStatus, SyncStatus
from django_graceful_cancel.exceptions import BackendError, NoActiveSubscription
from django_graceful_cancel.models import Reason, RetentionOffer
from tests.testapp.models import Account, Membership, Tier

pytestmark = pytest.mark.django_db

MEMBERSHIP = {
    "SUBSCRIPTION_MODEL": "testapp.Membership",
    "SUBSCRIPTION_FIELDS": {
        "customer": "member",
        "status": "state",
        "plan": "tier",
        "price": "tier__monthly_fee",
        "current_period_end": "renews_on",
        "cancel_at_period_end": "ends_at_term",
        "canceled_at": "ended_on",
        "started_at": "joined",
    },
    "SUBSCRIPTION_ACTIVE_STATUSES": ["live", "grace"],
    "SUBSCRIPTION_CANCELED_STATUS": "ended",
    "PLAN_LOOKUP_FIELD": "slug",
}

ACCOUNT = {
    "SUBSCRIPTION_MODEL": "testapp.Account",
    "SUBSCRIPTION_FIELDS": {
        "customer": "owner",
        "status": None,
        "active": "is_active",
        "plan": "level",
        "current_period_end": "expires",
        "auto_renew": "renews",
    },
}


@pytest.fixture
def tiers(db: Any) -> dict[str, Tier]:
    return {
        slug: Tier.objects.create(slug=slug, label=slug.title(), monthly_fee=Decimal(fee))
        for slug, fee in [("lite", "5.00"), ("plus", "15.00")]
    }


@pytest.fixture
def member(django_user_model: Any, tiers: dict[str, Tier]) -> Any:
    user = django_user_model.objects.create_user("mia", "mia@example.com", "x")
    now = timezone.now()
    Membership.objects.create(
        member=user,
        tier=tiers["plus"],
        renews_on=now + timedelta(days=10),
        joined=now - timedelta(days=100),
    )
    return user


@override_settings(GRACEFUL_CANCEL=MEMBERSHIP)
def test_non_default_field_names_snapshot(member, catalogue):
    case, _ = services.start_case(member)
    membership = Membership.objects.get(member=member)
    assert case.subscription_ref == f"testapp.membership:{membership.pk}"
    assert (case.plan, case.plan_code, case.price, case.tenure_days) == (
        "Plus",
        "plus",
        Decimal("15.00"),
        100,
    )
    assert case.period_end == membership.renews_on


@override_settings(GRACEFUL_CANCEL=MEMBERSHIP)
def test_non_default_cancel_at_period_end_and_reactivate(member, catalogue):
    case, _ = services.start_case(member)
    services.confirm_cancellation(case)
    membership = Membership.objects.get(member=member)
    assert membership.ends_at_term is True and membership.ended_on is not None
    assert membership.state == "live"
    services.reactivate(case)
    membership.refresh_from_db()
    assert membership.ends_at_term is False and membership.ended_on is None


@override_settings(GRACEFUL_CANCEL=MEMBERSHIP)
def test_non_default_cancel_now_writes_the_configured_status(member, catalogue):
    case, _ = services.start_case(member)
    services.confirm_cancellation(case, effective="immediately")
    assert Membership.objects.get(member=member).state == "ended"
    with pytest.raises(NoActiveSubscription):
        services.start_case(member)


@override_settings(GRACEFUL_CANCEL=MEMBERSHIP)
def test_non_default_downgrade_uses_the_plan_lookup_field(member, catalogue, tiers):
    offer = RetentionOffer.objects.create(
        slug="to-lite", kind="downgrade", title="Lite", parameters={"plan": "lite"}
    )
    offer.reasons.add(Reason.objects.get(slug="price"))
    RetentionOffer.objects.filter(slug="discount-30-3m").update(is_active=False)
    case, _ = services.start_case(member)
    services.record_reason(case, "price")
    assert services.present_offer(case).offer == offer
    services.accept_offer(case)
    assert Membership.objects.get(member=member).tier == tiers["lite"]


@override_settings(GRACEFUL_CANCEL=MEMBERSHIP)
def test_inactive_status_is_not_a_subscription(member, catalogue):
    Membership.objects.update(state="ended")
    with pytest.raises(NoActiveSubscription):
        services.start_case(member)


@pytest.fixture
def account_holder(django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("omar", "omar@example.com", "x")
    Account.objects.create(owner=user, expires=date.today() + timedelta(days=20))
    return user


@override_settings(GRACEFUL_CANCEL=ACCOUNT)
def test_one_to_one_active_flag_and_expiry_date(account_holder, catalogue):
    case, _ = services.start_case(account_holder)
    account = Account.objects.get(owner=account_holder)
    assert case.plan == "pro"
    # An expiry date means access until the end of that day.
    assert case.period_end.date() == account.expires
    services.confirm_cancellation(case)
    account.refresh_from_db()
    case.refresh_from_db()
    assert case.effective_mode == "period_end"
    assert account.renews is False and account.is_active is True
    services.reactivate(case)
    account.refresh_from_db()
    assert account.renews is True


@override_settings(GRACEFUL_CANCEL=ACCOUNT)
def test_expired_account_has_no_subscription(account_holder, catalogue):
    Account.objects.update(expires=date.today() - timedelta(days=1))
    with pytest.raises(NoActiveSubscription):
        services.start_case(account_holder)


@override_settings(GRACEFUL_CANCEL=ACCOUNT)
def test_extension_on_a_date_field(account_holder, catalogue):
    offer = RetentionOffer.objects.get(slug="extension-1m")
    offer.reasons.add(Reason.objects.get(slug="other"))
    before = Account.objects.get(owner=account_holder).expires
    case, _ = services.start_case(account_holder)
    services.record_reason(case, "other")
    services.present_offer(case)
    services.accept_offer(case)
    assert Account.objects.get(owner=account_holder).expires == before + timedelta(days=30)


@override_settings(
    GRACEFUL_CANCEL={
        **ACCOUNT,
        "SUBSCRIPTION_FIELDS": {**ACCOUNT["SUBSCRIPTION_FIELDS"], "auto_renew": None},
    }
)
def test_a_model_that_cannot_remember_a_deferred_cancellation_cancels_at_once(
    account_holder, catalogue
):
    case, _ = services.start_case(account_holder)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    assert case.effective_mode == "immediately"
    assert case.status == CaseStatus.CANCELLED and case.provider_sync == SyncStatus.SYNCED
    assert Account.objects.get(owner=account_holder).is_active is False


@override_settings(GRACEFUL_CANCEL=MEMBERSHIP)
def test_foreign_reference_is_refused(member, catalogue):
    with pytest.raises(BackendError) as info:
        ModelSubscriptionBackend().get_subscription("testapp.subscription:1")
    assert info.value.transient is False


def test_reading_a_missing_subscription(customer, catalogue):
    backend = ModelSubscriptionBackend()
    assert backend.get_subscription("testapp.subscription:999999") is None
    with pytest.raises(BackendError):
        backend.cancel("testapp.subscription:999999", at_period_end=True, case=None)
