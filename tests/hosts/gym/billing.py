"""The gym's nightly renewal job, as the gym ran it long before the cancellation flow came."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from .models import Membership, RenewalSetting


def nightly(today: date | None = None) -> list[Membership]:
    """Charge and extend by 30 days every active membership that expires today or earlier and has
    auto-renewal on; end the others once their expiry date has passed. Returns those charged."""
    today = today or timezone.localdate()
    charged = []
    due = Membership.objects.filter(is_active=True, expires__lte=today, renewal__auto_renew=True)
    for membership in due:
        membership.expires += timedelta(days=30)
        membership.save(update_fields=["expires"])
        charged.append(membership)
    Membership.objects.filter(is_active=True, expires__lt=today).update(is_active=False)
    return charged


def rejoin(member: Any, *, level: str) -> Membership:
    """The gym's sign-up for a former member: the membership row runs again for 30 days on
    ``level``, renewing automatically (the first month is charged at the desk's till)."""
    today = timezone.localdate()
    membership, _ = Membership.objects.get_or_create(
        member=member, defaults={"level": level, "expires": today}
    )
    membership.level = level
    membership.is_active = True
    membership.expires = today + timedelta(days=30)
    membership.save(update_fields=["level", "is_active", "expires"])
    RenewalSetting.objects.update_or_create(membership=membership, defaults={"auto_renew": True})
    return membership
