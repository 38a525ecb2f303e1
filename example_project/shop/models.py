"""The example site's own subscription model, driven by django-graceful-cancel's model backend."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Plan(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    interval = models.CharField(max_length=8, default="month")

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    class Status(models.TextChoices):
        TRIALING = "trialing"
        ACTIVE = "active"
        PAST_DUE = "past_due"
        CANCELED = "canceled"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    # The billing address's country and subdivision (ISO 3166): the law of the customer's place
    # (docs/compliance.md) reads them through SUBSCRIPTION_FIELDS.
    billing_country = models.CharField(max_length=2, blank=True)
    billing_region = models.CharField(max_length=3, blank=True)

    def __str__(self) -> str:
        return f"{self.user} · {self.plan} ({self.status})"
