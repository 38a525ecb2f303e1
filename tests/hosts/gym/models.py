"""Ironworks Gym's membership tables: no status, an expiry date, and renewal kept elsewhere."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

#: What each level costs a month; the renewal job (billing.py) charges it.
FEES = {"off-peak": Decimal("19.00"), "anytime": Decimal("34.00"), "anytime-plus": Decimal("45.00")}


class Membership(models.Model):
    class Level(models.TextChoices):
        OFF_PEAK = "off-peak", "Off-peak"
        ANYTIME = "anytime", "Anytime"
        ANYTIME_PLUS = "anytime-plus", "Anytime Plus"

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gym_membership"
    )
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.ANYTIME)
    is_active = models.BooleanField(default=True)
    expires = models.DateField()
    joined = models.DateField(default=timezone.localdate)

    def __str__(self) -> str:
        return f"{self.member} · {self.get_level_display()}"

    @property
    def fee(self) -> Decimal:
        """What the member pays a month (it follows the level)."""
        return FEES[self.level]

    @property
    def currency(self) -> str:
        return "EUR"  # the gym charges in one currency only


class RenewalSetting(models.Model):
    """Read by the gym's nightly renewal job: charge and extend when ``expires`` comes."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="renewal")
    auto_renew = models.BooleanField(default=True)
    card_last4 = models.CharField(max_length=4, blank=True)
