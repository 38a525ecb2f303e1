"""The interface every channel backend implements, and how one is chosen.

A channel is chosen by channel name in ``GRACEFUL_CANCEL["FOLLOWUP_CHANNELS"]`` (dotted paths),
falling back to ``DEFAULT_CHANNELS``; it is instantiated per send, without arguments.

``send()`` receives the outbox row, the rendered message (``rendering.RenderedMessage``) and the
signed links of that row, and returns a ``SendResult``. It raises ``ChannelError`` on failure:
``transient=True`` when a retry may succeed (provider down, rate limited), ``False`` when not
(an invalid number). A channel never changes the row: the service layer records the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from ...conf import Configurable, app_settings

if TYPE_CHECKING:
    from ...models import FollowUp
    from ...rendering import RenderedMessage
    from ..links import MessageLinks

DEFAULT_CHANNELS: dict[str, str] = {
    "email": "django_graceful_cancel.followups.channels.email.EmailChannel",
    "sms": "django_graceful_cancel.followups.channels.console.ConsoleSMSChannel",
    "whatsapp": "django_graceful_cancel.followups.channels.console.ConsoleWhatsAppChannel",
    "phone": "django_graceful_cancel.followups.channels.phone.CallTaskChannel",
}


class ChannelError(Exception):
    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class SendResult:
    #: The provider's id for the message (anymail's message_id, Twilio's SID, "call:<pk>").
    message_id: str = ""


class BaseChannel(Configurable):
    #: The channel name this backend serves ("email", "sms", "whatsapp", "phone").
    channel: str = ""
    #: The template part set rendering.render_message uses for this channel.
    render_as: str = ""

    def recipient(self, followup: FollowUp) -> str:
        """Where the message goes (address or phone); empty means it cannot be sent."""
        raise NotImplementedError

    def send(
        self, followup: FollowUp, message: RenderedMessage, *, recipient: str, links: MessageLinks
    ) -> SendResult:
        raise NotImplementedError


class PhoneRecipientMixin:
    def recipient(self, followup: FollowUp) -> str:
        return followup.case.contact_phone or ""


def get_channel(name: str) -> BaseChannel:
    configured = app_settings.FOLLOWUP_CHANNELS or {}
    path = configured.get(name) or DEFAULT_CHANNELS.get(name)
    if not path:
        raise ChannelError(f"No channel backend for {name!r}", transient=False)
    return import_string(path)()
