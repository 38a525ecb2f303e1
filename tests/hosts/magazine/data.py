"""The magazine's rows for a test or a screenshot: its plans and a reader who subscribes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.utils import timezone

from django_graceful_cancel.models import RetentionOffer

from .models import BillingAddress, Plan, Subscription

#: The catalogue's downgrade offer as the magazine's staff rewrite it in the admin: its cheaper
#: plan, named in the parameters, the title and the description (English and Spanish).
DOWNGRADE_OFFER = {
    "parameters": {"plan": "digital"},
    "title": "Switch to Digital only",
    "description": "Keep reading every issue online for 4.99 USD a month instead of 12.99.",
    "translations": {
        "es": {
            "title": "Cámbiate a solo digital",
            "description": "Sigue leyendo cada número en línea por 4,99 USD al mes en vez de 12,99.",
        }
    },
}


def plans() -> dict[str, Plan]:
    return {
        key: Plan.objects.get_or_create(
            lookup_key=key, defaults={"nickname": name, "unit_amount": Decimal(amount)}
        )[0]
        for key, name, amount in [
            ("digital", "Digital", "4.99"),
            ("print-and-digital", "Print + Digital", "12.99"),
        ]
    }


def make_customer(
    username: str,
    *,
    status: str = "active",
    days_left: int = 20,
    days_subscribed: int = 400,
    country: str = "",
    state: str = "",
) -> Any:
    """A reader of the Print + Digital plan for ``days_subscribed`` days (400), ``days_left``
    days before the period's end; with ``country`` (and ``state``), their billing address."""
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", "pw", first_name=username.title()
    )
    now = timezone.now()
    Subscription.objects.create(
        customer=user,
        plan=plans()["print-and-digital"],
        status=status,
        created=now - timedelta(days=days_subscribed),
        current_period_start=now - timedelta(days=30 - days_left),
        current_period_end=now + timedelta(days=days_left),
    )
    if country:
        BillingAddress.objects.create(customer=user, country=country, state=state)
    return user


def renews(user: Any) -> bool:
    """Whether the reader's subscription renews at the period end (Stripe would invoice)."""
    return not Subscription.objects.get(customer=user).cancel_at_period_end


def prepare_catalogue() -> None:
    """What the magazine's staff do once in the admin after loading the catalogue: rewrite the
    downgrade offer for the Digital plan. Its other offers stay: discounts, free features and
    consultations go to the desk (OFFER_FULFILMENT "staff")."""
    RetentionOffer.objects.filter(slug="downgrade-basic").update(**DOWNGRADE_OFFER)


def snapshot(user: Any) -> dict[str, Any]:
    """The reader's row as the magazine's billing sees it."""
    return model_to_dict(Subscription.objects.get(customer=user))
