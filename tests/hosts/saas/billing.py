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


def subscribe_again(*, case: Any, quote: Any, offer: Any, idempotency_key: str) -> str:
    """The RESUBSCRIBE_HOOK (docs/returns.md): a former owner comes back on the price they had.

    A new subscription row on the ended one's price (Ledgerly keeps old rows), invoiced now for
    what the confirmation page showed (``quote``: the offer's first charge, else the price);
    the idempotency key is the invoice's, so a second call charges nothing more. Called inside
    the transaction that records the return; raising refuses it."""
    existing = Invoice.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return f"saas.subscription:{existing.subscription_id}"
    pk = case.subscription_ref.rpartition(":")[2]
    ended = Subscription.objects.select_related("price").get(pk=pk)
    now = timezone.now()
    step = timedelta(days=365 if ended.price.interval == "year" else 30)
    subscription = Subscription.objects.create(
        owner=case.customer,
        plan=ended.plan,
        price=ended.price,
        state=Subscription.State.ACTIVE,
        started=now,
        renews_at=now + step,
    )
    amount = quote.offer_amount if offer is not None and quote.offer_amount else quote.amount
    Invoice.objects.create(
        subscription=subscription,
        price=ended.price,
        amount=amount,
        issued_at=now,
        idempotency_key=idempotency_key,
    )
    return f"saas.subscription:{subscription.pk}"
