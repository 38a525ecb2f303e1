"""Signed, expiring, single-purpose links for follow-ups: unsubscribe, survey, reactivate.

A token is ``django.core.signing`` data signed with a salt per purpose, so a survey token can
never unsubscribe and an unsubscribe token can never reactivate. Tokens expire after
``LINK_MAX_AGE_DAYS``. They carry the case's primary key and, for a per-channel unsubscribe, the
channel; nothing personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.urls import reverse

from ..conf import app_settings
from ..sites import absolute, site_name, site_url

if TYPE_CHECKING:
    from ..models import CancellationCase

__all__ = [
    "PURPOSES",
    "InvalidLink",
    "MessageLinks",
    "absolute",
    "links_for",
    "make_token",
    "read_token",
    "site_name",
    "site_url",
    "url_for",
]

PURPOSES = ("unsubscribe", "survey", "reactivate")


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


def read_token(purpose: str, token: str) -> dict[str, Any]:
    """``{"case": pk, "channel": "" or a channel}``; raises ``InvalidLink``."""
    max_age = int(app_settings.LINK_MAX_AGE_DAYS) * 86400
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

    def as_context(self) -> dict[str, str]:
        return {
            "unsubscribe_url": self.unsubscribe,
            "unsubscribe_channel_url": self.unsubscribe_channel,
            "survey_url": self.survey,
            "reactivate_url": self.reactivate,
        }


def links_for(case: CancellationCase, channel: str) -> MessageLinks:
    return MessageLinks(
        unsubscribe=url_for("unsubscribe", case.pk),
        unsubscribe_channel=url_for("unsubscribe", case.pk, channel=channel),
        survey=url_for("survey", case.pk),
        reactivate=url_for("reactivate", case.pk),
    )
