"""Where staff alerts go: Slack (an incoming webhook), email to the case's owner, or your own.

``GRACEFUL_CANCEL["ALERT_CHANNELS"]`` maps a channel name to the dotted path of a
``BaseAlertChannel`` subclass; names left out keep the built-ins ``"slack"`` and
``"owner_email"``. A channel is a ``conf.Configurable``: it declares its options (documented in
docs/alerts.md) and checks them in ``check()``.

``send()`` returns an ``AlertResult`` or raises ``AlertChannelError``: ``transient=True`` (the
service is down, rate-limited) retries with back-off, up to ``WEBHOOK_MAX_ATTEMPTS``; otherwise
the delivery fails at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

from ..choices import DeliveryStatus
from ..conf import Configurable, Option, app_settings, optional_http_url
from ..models import OutboundDelivery
from ..webhooks import transport
from . import messages

#: The built-in channels, by name.
BUILTIN_CHANNELS: dict[str, str] = {
    "slack": "django_graceful_cancel.alerts.channels.SlackAlertChannel",
    "owner_email": "django_graceful_cancel.alerts.channels.OwnerEmailAlertChannel",
}


class AlertChannelError(Exception):
    """A send failed; ``transient`` ones are retried with back-off."""

    def __init__(
        self, message: str, *, transient: bool = True, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status_code = status_code


@dataclass(frozen=True)
class AlertResult:
    #: ``DeliveryStatus.DELIVERED``, or ``SKIPPED`` when there was nobody to send to.
    status: str
    response_code: int | None = None
    #: Why it was skipped, for the delivery log.
    note: str = ""


class BaseAlertChannel(Configurable):
    """A place staff alerts go. Subclass it, declare ``options``, implement ``send``."""

    options_docs: ClassVar[str] = "docs/alerts.md"

    def send(self, delivery: OutboundDelivery, *, timeout: float) -> AlertResult:
        """Send the alert of ``delivery`` (``delivery.event_type`` is the rule,
        ``delivery.payload`` its facts, ``delivery.case`` the case or None)."""
        raise NotImplementedError


class SlackAlertChannel(BaseAlertChannel):
    """Posts the alert to a Slack channel through an incoming webhook
    (https://api.slack.com/messaging/webhooks)."""

    options = {
        "ALERT_SLACK_WEBHOOK_URL": Option(
            None,
            help="the incoming webhook URL Slack gave for the channel",
            valid=optional_http_url,
            expected='None or an https URL such as "https://hooks.slack.com/services/…"',
            required=True,
        ),
    }

    def send(self, delivery: OutboundDelivery, *, timeout: float) -> AlertResult:
        try:
            url = self.get_option("ALERT_SLACK_WEBHOOK_URL")
        except ImproperlyConfigured as error:
            raise AlertChannelError(str(error), transient=False) from error
        message = messages.compose(delivery.event_type, delivery.payload)
        result = transport.post(url, json.dumps(messages.slack_payload(message)), timeout=timeout)
        if result.ok:
            return AlertResult(DeliveryStatus.DELIVERED, response_code=result.status_code)
        # Slack answers 4xx for a payload or a channel it will never accept (invalid_payload,
        # channel_not_found, channel_is_archived...): retrying changes nothing.
        code = result.status_code
        transient = code is None or code == 429 or code >= 500
        raise AlertChannelError(result.error, transient=transient, status_code=code)


class OwnerEmailAlertChannel(BaseAlertChannel):
    """Emails the alert to the staff member who owns the case, else to the site's ``MANAGERS``
    (Django's setting for staff notifications); with neither, the delivery is skipped."""

    def recipients(self, delivery: OutboundDelivery) -> list[str]:
        case = delivery.case
        owner = case.owner if case is not None and case.owner_id else None
        address = getattr(owner, owner.get_email_field_name(), "") if owner is not None else ""
        if address:
            return [address]
        return [email for _name, email in getattr(settings, "MANAGERS", []) or []]

    def send(self, delivery: OutboundDelivery, *, timeout: float) -> AlertResult:
        to = self.recipients(delivery)
        if not to:
            return AlertResult(
                DeliveryStatus.SKIPPED, note="the case has no owner with an email, and no MANAGERS"
            )
        message = messages.compose(delivery.event_type, delivery.payload)
        subject, text = messages.email_parts(message)
        email = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
            to=to,
        )
        email.tags = ["graceful-cancel", "alert"]  # type: ignore[attr-defined]
        email.metadata = {"alert": delivery.event_type, "delivery": delivery.pk}  # type: ignore[attr-defined]
        try:
            email.send()
        except Exception as error:  # any ESP failure: retried with back-off
            raise AlertChannelError(f"{type(error).__name__}: {error}") from error
        return AlertResult(DeliveryStatus.DELIVERED)


def channel_path(name: str) -> str | None:
    """The dotted path of the channel ``name`` (configured, else built in), or None."""
    configured = app_settings.ALERT_CHANNELS
    if isinstance(configured, dict) and isinstance(configured.get(name), str):
        return str(configured[name])
    return BUILTIN_CHANNELS.get(name)


def get_alert_channel(name: str) -> BaseAlertChannel:
    """An instance of the channel ``name``; ``AlertChannelError`` (not transient) for a name
    with no channel, ``ImportError`` for a path that cannot be imported."""
    path = channel_path(name)
    if path is None:
        raise AlertChannelError(f"No alert channel is named {name!r}.", transient=False)
    channel: BaseAlertChannel = import_string(path)()
    return channel
