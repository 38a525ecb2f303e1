"""The example site's link to Stripe, used when it runs on the Stripe backend
(``GRACEFUL_CANCEL_BACKEND=stripe``; docs/stripe.md).

A real site stores each user's Stripe customer id (a profile field, or dj-stripe's Customer).
The demo has no such field, so it finds the customer by the user's email; ``seed_stripe``
creates one customer per demo user with that email.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django_graceful_cancel.backends import get_backend
from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend, stripe_errors


def stripe_customer_id(user: Any) -> str | None:
    """``GRACEFUL_CANCEL["STRIPE_CUSTOMER_LOOKUP"]`` of the demo: the customer with this email."""
    if not getattr(user, "email", ""):
        return None
    with stripe_errors():
        found = StripeSubscriptionBackend().client.v1.customers.list(
            {"email": user.email, "limit": 1}
        )
    return str(found.data[0].id) if found.data else None


def account_subscription(user: Any) -> Any:
    """The subscription the account page shows, read from Stripe, shaped like shop's model."""
    info = get_backend().get_active_subscription(user)
    if info is None:
        return None
    from .models import Subscription

    status = str(info.extra.get("status") or "active")
    label = dict(Subscription.Status.choices).get(status, status)
    return SimpleNamespace(
        plan=SimpleNamespace(
            name=info.plan, price=info.price, currency=info.currency, interval=info.interval
        ),
        status=status,
        get_status_display=lambda: label,
        cancel_at_period_end=info.cancel_at_period_end,
        current_period_end=info.current_period_end,
    )


def on_stripe() -> bool:
    return isinstance(get_backend(), StripeSubscriptionBackend)
