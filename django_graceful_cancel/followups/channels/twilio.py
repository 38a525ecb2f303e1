"""SMS and WhatsApp through Twilio (``pip install django-graceful-cancel[twilio]``).

Settings::

    GRACEFUL_CANCEL = {
        "FOLLOWUP_CHANNELS": {
            "sms": "django_graceful_cancel.followups.channels.twilio.TwilioSMSChannel",
            "whatsapp": "django_graceful_cancel.followups.channels.twilio.TwilioWhatsAppChannel",
        },
        "TWILIO": {
            "ACCOUNT_SID": "AC...",
            "AUTH_TOKEN": "...",
            "FROM_NUMBER": "+15005550006",
            "WHATSAPP_FROM": "+14155238886",
        },
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...conf import Option
from .base import BaseChannel, ChannelError, PhoneRecipientMixin, SendResult

if TYPE_CHECKING:
    from ...models import FollowUp
    from ...rendering import RenderedMessage
    from ..links import MessageLinks


class TwilioSMSChannel(PhoneRecipientMixin, BaseChannel):
    channel = "sms"
    render_as = "sms"
    #: Prefix Twilio uses for the channel's addresses ("whatsapp:" for WhatsApp).
    address_prefix = ""
    from_key = "FROM_NUMBER"

    options_docs = "docs/followups.md"
    options = {
        "TWILIO": Option(
            {},
            help=(
                'Twilio credentials: {"ACCOUNT_SID": ..., "AUTH_TOKEN": ..., '
                '"FROM_NUMBER": "+1...", "WHATSAPP_FROM": "+1..."}'
            ),
            valid=lambda v: isinstance(v, dict),
            expected="a dict of Twilio credentials",
        )
    }

    def config(self) -> dict[str, Any]:
        config = self.get_option("TWILIO") or {}
        missing = [k for k in ("ACCOUNT_SID", "AUTH_TOKEN", self.from_key) if not config.get(k)]
        if missing:
            raise ChannelError(
                f"GRACEFUL_CANCEL['TWILIO'] lacks {', '.join(missing)}", transient=False
            )
        return config

    def client(self, config: dict[str, Any]) -> Any:
        from twilio.rest import Client

        return Client(config["ACCOUNT_SID"], config["AUTH_TOKEN"])

    def send(
        self, followup: FollowUp, message: RenderedMessage, *, recipient: str, links: MessageLinks
    ) -> SendResult:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        config = self.config()
        try:
            sent = self.client(config).messages.create(
                to=f"{self.address_prefix}{recipient}",
                from_=f"{self.address_prefix}{config[self.from_key]}",
                body=message.text,
            )
        except TwilioRestException as error:
            transient = error.status == 429 or error.status >= 500
            raise ChannelError(str(error), transient=transient) from error
        except (TwilioException, OSError) as error:
            raise ChannelError(str(error), transient=True) from error
        return SendResult(message_id=str(sent.sid))


class TwilioWhatsAppChannel(TwilioSMSChannel):
    channel = "whatsapp"
    render_as = "whatsapp"
    address_prefix = "whatsapp:"
    from_key = "WHATSAPP_FROM"
