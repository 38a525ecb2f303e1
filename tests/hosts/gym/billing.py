"""The gym's nightly renewal job, as the gym ran it long before the cancellation flow came."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from .models import Membership


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
