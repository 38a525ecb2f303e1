"""The magazine's billing tables, shaped like Stripe's price and subscription objects."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Plan(models.Model):
    """A price the reader pays, found by its ``lookup_key`` (as Stripe prices are)."""

    lookup_key = models.SlugField(unique=True)
    nickname = models.CharField(max_length=100)
    unit_amount = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    interval = models.CharField(max_length=8, default="month")

    def __str__(self) -> str:
        return self.nickname


class Subscription(models.Model):
    """One per reader, as Stripe's subscription object has it."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"
        UNPAID = "unpaid", "Unpaid"

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="magazine_subscription"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(default=timezone.now)
    current_period_start = models.DateTimeField(default=timezone.now)
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Stripe's pause_collection.resumes_at: no invoice until then.
    pause_resumes_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.customer} · {self.plan} ({self.status})"


class BillingAddress(models.Model):
    """The reader's billing address, as Stripe's customer object keeps it (``address.country``,
    ``address.state``): where the reader is for the law (the app's ``country``/``region``)."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="magazine_billing"
    )
    line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    # ISO 3166-1 alpha-2, as Stripe stores it ("DE").
    country = models.CharField(max_length=2)
    state = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.customer} · {self.country}"
