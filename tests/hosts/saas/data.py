"""Ledgerly's rows for a test or a screenshot: its price list and a workspace owner."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.utils import timezone

from django_graceful_cancel.models import RetentionOffer

from .models import Plan, Price, Subscription

#: The catalogue's downgrade offer as Ledgerly's staff rewrite it in the admin: its cheapest plan,
#: named in the parameters, the title and the description (English and Spanish).
DOWNGRADE_OFFER = {
    "parameters": {"plan": "starter"},
    "title": "Switch to Starter",
    "description": "Keep your workspace and its data on our Starter plan, at a third of the price.",
    "translations": {
        "es": {
            "title": "Cámbiate a Starter",
            "description": "Conserva tu espacio de trabajo y sus datos en nuestro plan Starter, a un tercio del precio.",
        }
    },
}

PRICE_LIST = [
    ("starter", "Starter", "month", "9.00"),
    ("starter", "Starter", "year", "90.00"),
    ("team", "Team", "month", "29.00"),
    ("team", "Team", "year", "290.00"),
    ("business", "Business", "month", "79.00"),
]


def prices() -> dict[tuple[str, str], Price]:
    """Every price by (plan code, interval), created on first use."""
    found = {}
    for code, name, interval, amount in PRICE_LIST:
        plan, _ = Plan.objects.get_or_create(code=code, defaults={"name": name})
        found[code, interval], _ = Price.objects.get_or_create(
            plan=plan,
            currency="GBP",
            interval=interval,
            defaults={"amount": Decimal(amount)},
        )
    return found


def make_customer(
    username: str, *, plan: str = "team", interval: str = "month", state: str = "active"
) -> Any:
    """A workspace owner for 200 days whose subscription renews in 20 days."""
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", "pw", first_name=username.title()
    )
    price, now = prices()[plan, interval], timezone.now()
    Subscription.objects.create(
        owner=user,
        plan=price.plan,
        price=price,
        state=state,
        started=now - timedelta(days=200),
        renews_at=now + timedelta(days=20),
    )
    return user


def renews(user: Any) -> bool:
    """Whether Ledgerly's renewal job would charge the owner's live subscription."""
    return Subscription.objects.exclude(state="ended").get(owner=user).auto_renew


def prepare_catalogue() -> None:
    """What Ledgerly's staff do once in the admin after loading the catalogue: rewrite the
    downgrade offer for the Starter plan, and switch off the free-feature and consultation offers
    (discounts are granted by its hook, billing.grant_discount)."""
    RetentionOffer.objects.filter(slug="downgrade-basic").update(**DOWNGRADE_OFFER)
    RetentionOffer.objects.filter(kind__in=["free_feature", "consultation"]).update(is_active=False)


def snapshot(user: Any) -> dict[str, Any]:
    """The owner's subscriptions as Ledgerly's renewal job sees them."""
    return {s.pk: model_to_dict(s) for s in Subscription.objects.filter(owner=user)}
