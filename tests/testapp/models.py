"""Host subscription models of other shapes, to test the model backend's configuration."""

from django.conf import settings
from django.db import models


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
