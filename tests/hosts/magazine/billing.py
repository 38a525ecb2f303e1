"""What Stripe does at the end of a period, for the magazine's rows (the webhook's effect)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from .models import Subscription

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)


def roll_over(now: datetime | None = None) -> list[Subscription]:
    """Invoice and start a new period for every live subscription whose period has ended, unless
    it was set to cancel at the period end: that one ends. Paused collection skips the invoice
    but not the period. Returns those invoiced."""
    now = now or timezone.now()
    invoiced = []
    for subscription in Subscription.objects.filter(status__in=LIVE, current_period_end__lte=now):
        if subscription.cancel_at_period_end:
            subscription.status = Subscription.Status.CANCELED
            subscription.ended_at = subscription.current_period_end
        else:
            subscription.current_period_start = subscription.current_period_end
            subscription.current_period_end += timedelta(days=30)
            subscription.status = Subscription.Status.ACTIVE
            paused = subscription.pause_resumes_at and subscription.pause_resumes_at > now
            if not paused:
                invoiced.append(subscription)
        subscription.save()
    return invoiced
