"""The gym's rows for a test or a screenshot: a member whose membership renews automatically."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.utils import timezone

from django_graceful_cancel.models import RetentionOffer

from .models import Membership, RenewalSetting

#: The catalogue's downgrade offer as the gym's staff rewrite it in the admin: its cheaper level,
#: named in the parameters, the title and the description (English and Spanish).
DOWNGRADE_OFFER = {
    "parameters": {"plan": "off-peak"},
    "title": "Switch to Off-peak",
    "description": "Train before 4pm and at weekends for 19 EUR a month instead of 34.",
    "translations": {
        "es": {
            "title": "Cámbiate a Horario valle",
            "description": "Entrena antes de las 16:00 y los fines de semana por 19 EUR al mes en vez de 34.",
        }
    },
}


def make_customer(username: str, *, level: str = "anytime", days_left: int = 20) -> Any:
    """A member for 800 days whose membership expires in ``days_left`` days and renews."""
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", "pw", first_name=username.title()
    )
    today = timezone.localdate()
    membership = Membership.objects.create(
        member=user,
        level=level,
        expires=today + timedelta(days=days_left),
        joined=today - timedelta(days=800),
    )
    RenewalSetting.objects.create(membership=membership, auto_renew=True, card_last4="4242")
    return user


def renews(user: Any) -> bool:
    """Whether the gym's nightly job would charge the member when the membership expires."""
    return bool(Membership.objects.get(member=user).renewal.auto_renew)


def prepare_catalogue() -> None:
    """What the gym's staff do once in the admin after loading the catalogue: rewrite the
    downgrade offer for the Off-peak level, and switch off the discount and free-feature offers,
    which nobody at the gym would apply (a trainer's call, "consultation", goes to the desk)."""
    RetentionOffer.objects.filter(slug="downgrade-basic").update(**DOWNGRADE_OFFER)
    RetentionOffer.objects.filter(kind__in=["discount", "free_feature"]).update(is_active=False)


def snapshot(user: Any) -> dict[str, Any]:
    """The member's rows as the gym's renewal job sees them."""
    membership = Membership.objects.select_related("renewal").get(member=user)
    return {**model_to_dict(membership), "renewal": model_to_dict(membership.renewal)}
