"""Ledgerly's billing code: its renewal job, and the hook that grants a retention discount."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from .models import Invoice, Subscription

LIVE = (Subscription.State.TRIAL, Subscription.State.ACTIVE)


def amount_due(subscription: Subscription, now: datetime) -> Decimal:
    """The price of the subscription's price row, less a discount that still runs."""
    amount = subscription.price.amount
    if (
        subscription.discount_percent
        and subscription.discount_until
        and now < (subscription.discount_until)
    ):
        amount = amount * (100 - subscription.discount_percent) / 100
    return amount.quantize(Decimal("0.01"))


def renew(now: datetime | None = None) -> list[Invoice]:
    """Invoice every live subscription due for renewal that has auto-renewal on and move its
    renewal date one interval on; end the due ones without. Returns the invoices."""
    now = now or timezone.now()
    invoices = []
    due = Subscription.objects.filter(state__in=LIVE, renews_at__lte=now).select_related("price")
    for subscription in due:
        if subscription.auto_renew:
            invoices.append(
                Invoice.objects.create(
                    subscription=subscription,
                    price=subscription.price,
                    amount=amount_due(subscription, now),
                    issued_at=now,
                )
            )
            step = timedelta(days=365 if subscription.price.interval == "year" else 30)
            subscription.renews_at += step
            subscription.state = Subscription.State.ACTIVE
            subscription.save(update_fields=["renews_at", "state"])
        else:
            subscription.state = Subscription.State.ENDED
            subscription.save(update_fields=["state"])
    return invoices


def grant_discount(*, case: Any, offer: Any) -> dict[str, Any]:
    """The OFFER_FULFILMENT hook for discount offers ({"percent_off": 30, "duration_months": 3}):
    a coupon on the subscription the case cancels, from its next invoice on. Called inside the
    transaction that saves the case; raising refuses the offer."""
    pk = case.subscription_ref.rpartition(":")[2]
    subscription = Subscription.objects.select_for_update().get(pk=pk, state__in=LIVE)
    params = offer.parameters
    subscription.discount_percent = int(params["percent_off"])
    subscription.discount_until = subscription.renews_at + timedelta(
        days=30 * int(params["duration_months"]) - 1
    )
    subscription.save(update_fields=["discount_percent", "discount_until"])
    return {"discount_until": subscription.discount_until.isoformat()}
