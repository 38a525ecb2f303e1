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

from .conf import app_settings

if TYPE_CHECKING:
    from .models import CancellationCase

PURPOSES = ("unsubscribe", "survey", "reactivate")


class InvalidLink(Exception):
    """The token was tampered with, expired, or made for another purpose."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: "expired" or "invalid".
        self.reason = reason


def _salt(purpose: str) -> str:
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


def site_name() -> str:
    """The site's name in messages: ``SITE_NAME``, else the current ``Site``'s name."""
    if app_settings.SITE_NAME:
        return str(app_settings.SITE_NAME)
    from django.apps import apps

    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site
        from django.core.exceptions import ImproperlyConfigured

        try:
            return Site.objects.get_current().name
        except (Site.DoesNotExist, ImproperlyConfigured):
            pass
    return "our service"


def site_url() -> str:
    if app_settings.SITE_URL:
        return str(app_settings.SITE_URL).rstrip("/")
    from django.apps import apps

    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site

        try:
            return f"https://{Site.objects.get_current().domain}"
        except Exception:  # noqa: BLE001  (no Site row or no table yet: use the fallback)
            pass
    return "http://localhost:8000"


def absolute(path: str) -> str:
    """``path`` on the site's address, for links in messages; an absolute URL (or nothing) is
    returned as it is."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return f"{site_url()}{path}"


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
