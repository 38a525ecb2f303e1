"""Development channels: SMS and WhatsApp messages are printed instead of sent."""

from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING, TextIO

from .base import BaseChannel, PhoneRecipientMixin, SendResult

if TYPE_CHECKING:
    from ...models import FollowUp
    from ...rendering import RenderedMessage
    from ..links import MessageLinks


class ConsoleSMSChannel(PhoneRecipientMixin, BaseChannel):
    channel = "sms"
    render_as = "sms"
    #: Where messages are printed; tests may replace it.
    stream: TextIO | None = None

    def send(
        self, followup: FollowUp, message: RenderedMessage, *, recipient: str, links: MessageLinks
    ) -> SendResult:
        stream = self.stream or sys.stdout
        stream.write(
            f"--- {self.channel} to {recipient} ({followup.stage}, {followup.case.reference})\n"
            f"{message.text}\n---\n"
        )
        stream.flush()
        return SendResult(message_id=f"console-{uuid.uuid4().hex}")


class ConsoleWhatsAppChannel(ConsoleSMSChannel):
    channel = "whatsapp"
    render_as = "whatsapp"
