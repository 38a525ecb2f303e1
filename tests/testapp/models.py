"""The test project's host models: ``Plan`` and ``Subscription``, the subscription the suite's
settings point the model backend at, and models of other shapes (``Tier``/``Membership``,
``Account``) to test the model backend's configuration."""

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
    """The model backend's default shape (``GRACEFUL_CANCEL["SUBSCRIPTION_MODEL"]``)."""

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

    def __str__(self) -> str:
        return f"{self.user} · {self.plan} ({self.status})"


class Tier(models.Model):
    slug = models.SlugField(unique=True)
    label = models.CharField(max_length=50)
    monthly_fee = models.DecimalField(max_digits=8, decimal_places=2)

    def __str__(self) -> str:
        return self.label


class Membership(models.Model):
    """Stripe-like, with non-default field names everywhere."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT)
    state = models.CharField(max_length=16, default="live")
    renews_on = models.DateTimeField()
    ends_at_term = models.BooleanField(default=False)
    ended_on = models.DateTimeField(null=True, blank=True)
    joined = models.DateTimeField()


class Account(models.Model):
    """A one-to-one from the user, with only an active flag and an expiry date: no status at all."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account"
    )
    level = models.CharField(max_length=20, default="pro")
    is_active = models.BooleanField(default=True)
    expires = models.DateField()
    renews = models.BooleanField(default=True)


class Pass(models.Model):
    """An annual pass: an active flag and an expiry date, no status (issue 13). Its renewal is a
    flag on a related row (``PassRenewal``) or, for the subclass docs/backends.md shows, an order
    in the site's renewal queue (``RenewalOrder``)."""

    holder = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annual_pass"
    )
    kind = models.CharField(
        max_length=20, choices=[("day", "Days"), ("full", "Full")], default="full"
    )
    yearly_fee = models.DecimalField(max_digits=8, decimal_places=2, default=120)
    active = models.BooleanField(default=True)
    valid_until = models.DateField()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} pass"


class PassRenewal(models.Model):
    """What the site's renewal job reads: renew the pass when ``valid_until`` comes."""

    annual_pass = models.OneToOneField(Pass, on_delete=models.CASCADE, related_name="renewal")
    enabled = models.BooleanField(default=True)


class RenewalOrder(models.Model):
    """The site's renewal queue, keyed by user: no field path from a ``Pass`` reaches it."""

    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="renewal_orders"
    )
    active = models.BooleanField(default=True)
    stopped_by = models.CharField(max_length=32, blank=True)
