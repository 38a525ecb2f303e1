"""Signed, expiring, single-purpose links for follow-ups: unsubscribe, survey, reactivate, the
customer's data export of the good-bye package, and "come back" after the subscription ended.

A token is ``django.core.signing`` data signed with a salt per purpose, so a survey token can
never unsubscribe and an unsubscribe token can never reactivate. Tokens expire after
``LINK_MAX_AGE_DAYS``; an export token after ``GOODBYE["export_link_days"]``. They carry the
case's primary key and, for a per-channel unsubscribe, the channel; nothing personal. A
come-back token also carries the customer's primary key (the page refuses anyone else), the
message it came in and where the link was (docs/returns.md); it is used up once they came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.urls import reverse

from ..choices import FollowUpStatus
from ..conf import app_settings
from ..models import FollowUp, WinbackArm
from ..rendering import goodbye_settings
from ..services.return_rules import can_come_back
from ..sites import absolute, site_name, site_url

if TYPE_CHECKING:
    from ..models import CancellationCase

__all__ = [
    "PURPOSES",
    "InvalidLink",
    "MessageLinks",
    "absolute",
    "comeback_link",
    "export_link",
    "links_for",
    "make_token",
    "max_age_days",
    "read_comeback_token",
    "read_token",
    "site_name",
    "site_url",
    "url_for",
]

PURPOSES = ("unsubscribe", "survey", "reactivate", "export")
#: The come-back token's purpose: its own salt, and more in it than the case (``comeback_link``).
COMEBACK = "comeback"


class InvalidLink(Exception):
    """The token was tampered with, expired, or made for another purpose."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: "expired" or "invalid".
        self.reason = reason


def _salt(purpose: str) -> str:
    # The module's old path: changing the salt would void every link already sent.
    return f"django_graceful_cancel.links.{purpose}"


def make_token(purpose: str, case_pk: int, *, channel: str = "") -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown link purpose {purpose!r}")
    data: dict[str, Any] = {"c": case_pk}
    if channel:
        data["ch"] = channel
    return signing.dumps(data, salt=_salt(purpose), compress=True)


def max_age_days(purpose: str) -> int:
    """How many days a link made for ``purpose`` works."""
    if purpose == "export":
        return int(goodbye_settings().get("export_link_days") or 7)
    return int(app_settings.LINK_MAX_AGE_DAYS)


def read_token(purpose: str, token: str) -> dict[str, Any]:
    """``{"case": pk, "channel": "" or a channel}``; raises ``InvalidLink``."""
    max_age = max_age_days(purpose) * 86400
    try:
        data = signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired as error:
        raise InvalidLink("expired") from error
    except signing.BadSignature as error:
        raise InvalidLink("invalid") from error
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise InvalidLink("invalid")
    return {"case": data["c"], "channel": data.get("ch", "")}


def url_for(purpose: str, case_pk: int, *, channel: str = "") -> str:
    token = make_token(purpose, case_pk, channel=channel)
    return absolute(reverse(f"graceful_cancel:link_{purpose}", args=[token]))


@dataclass(frozen=True)
class MessageLinks:
    #: Stop every follow-up, on every channel.
    unsubscribe: str
    #: Stop follow-ups on the channel this message came on (the List-Unsubscribe target).
    unsubscribe_channel: str
    survey: str
    reactivate: str
    #: The customer's own data (the good-bye package), or "" when the site offers no export.
    export: str = ""
    #: Come back after the end (docs/returns.md), or "" when the case cannot come back this way.
    comeback: str = ""
    #: The win-back offer the come-back page applies (its title), or "".
    comeback_offer: str = ""

    def as_context(self) -> dict[str, str]:
        return {
            "unsubscribe_url": self.unsubscribe,
            "unsubscribe_channel_url": self.unsubscribe_channel,
            "survey_url": self.survey,
            "reactivate_url": self.reactivate,
            "export_url": self.export,
            "comeback_url": self.comeback,
            "comeback_offer": self.comeback_offer,
        }


def export_link(case: CancellationCase) -> str:
    """The signed link to the customer's data export, or "" when ``GOODBYE["export"]`` is off or
    the case has no customer (any more)."""
    if not goodbye_settings().get("export") or case.pk is None or case.customer_id is None:
        return ""
    return url_for("export", case.pk)


def read_comeback_token(token: str) -> dict[str, Any]:
    """``{"case", "customer", "followup", "channel", "source"}`` of a come-back token; raises
    ``InvalidLink``."""
    try:
        data = signing.loads(token, salt=_salt(COMEBACK), max_age=max_age_days(COMEBACK) * 86400)
    except signing.SignatureExpired as error:
        raise InvalidLink("expired") from error
    except signing.BadSignature as error:
        raise InvalidLink("invalid") from error
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise InvalidLink("invalid")
    return {
        "case": data["c"],
        "customer": data.get("u"),
        "followup": data.get("f"),
        "channel": str(data.get("ch") or ""),
        "source": str(data.get("s") or ""),
    }


def comeback_link(
    case: CancellationCase,
    *,
    channel: str = "",
    followup: FollowUp | None = None,
    source: str = "message",
) -> str:
    """The signed come-back link of ``case`` (docs/returns.md), or "" when it cannot come back
    this way (``services.return_rules.can_come_back``). Bound to the case and its customer, and
    to the message it is sent in (for the attribution of the return)."""
    if case.pk is None or not can_come_back(case):
        return ""
    data: dict[str, Any] = {"c": case.pk, "u": case.customer_id, "s": source}
    if channel:
        data["ch"] = channel
    if followup is not None:
        data["f"] = followup.pk
    token = signing.dumps(data, salt=_salt(COMEBACK), compress=True)
    return absolute(reverse("graceful_cancel:comeback", args=[token]))


def _sending(case: CancellationCase, channel: str) -> FollowUp | None:
    """The case's row being sent on ``channel`` (the outbox builds the links while it holds it)."""
    return (
        FollowUp.objects.filter(case_id=case.pk, channel=channel, status=FollowUpStatus.SENDING)
        .order_by("-claimed_at", "-pk")
        .first()
    )


def links_for(
    case: CancellationCase, channel: str, *, followup: FollowUp | None = None
) -> MessageLinks:
    comeback = ""
    offer = ""
    if case.pk is not None and can_come_back(case):
        followup = followup if followup is not None else _sending(case, channel)
        comeback = comeback_link(case, channel=channel, followup=followup)
        arm = WinbackArm.objects.filter(case_id=case.pk).select_related("offer").first()
        if arm is not None and arm.offer is not None and arm.offer.is_active:
            offer = str(arm.offer.localized_title)
    return MessageLinks(
        unsubscribe=url_for("unsubscribe", case.pk),
        unsubscribe_channel=url_for("unsubscribe", case.pk, channel=channel),
        survey=url_for("survey", case.pk),
        reactivate=url_for("reactivate", case.pk),
        export=export_link(case),
        comeback=comeback,
        comeback_offer=offer,
    )
