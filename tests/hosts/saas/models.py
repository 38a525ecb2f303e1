"""Ledgerly's billing tables: plans, their prices, and subscriptions to a price of a plan."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Plan(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3, default="GBP")
    interval = models.CharField(max_length=8, choices=Interval.choices, default=Interval.MONTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "currency", "interval"], name="saas_one_price_per_interval"
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.amount} {self.currency}/{self.interval}"


class Subscription(models.Model):
    class State(models.TextChoices):
        TRIAL = "trial", "Trial"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saas_subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    price = models.ForeignKey(Price, on_delete=models.PROTECT, related_name="subscriptions")
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    started = models.DateTimeField(default=timezone.now)
    renews_at = models.DateTimeField()
    auto_renew = models.BooleanField(default=True)
    canceled_on = models.DateTimeField(null=True, blank=True)
    # A coupon: this much off every invoice until discount_until.
    discount_percent = models.PositiveSmallIntegerField(default=0)
    discount_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.owner} · {self.price} ({self.state})"


class Invoice(models.Model):
    """What the renewal job charged (billing.renew)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="invoices"
    )
    price = models.ForeignKey(Price, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    issued_at = models.DateTimeField()
    # The payment provider's idempotency key (a return's, billing.subscribe_again): one charge.
    idempotency_key = models.CharField(max_length=100, blank=True)
