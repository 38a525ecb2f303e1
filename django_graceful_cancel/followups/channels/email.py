"""Email through Django's mail API, with anymail-compatible tags and metadata.

Works with any Django mail backend; with an anymail ESP backend the provider's message id is
stored on the row and tracking events map back to it through the ``followup`` metadata.
"""

from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from ...conf import app_settings
from .base import BaseChannel, ChannelError, SendResult

if TYPE_CHECKING:
    from ...models import FollowUp
    from ...rendering import RenderedMessage
    from ..links import MessageLinks


def is_transient_api_error(error: Exception) -> bool:
    """An ESP error a retry may cure: no HTTP status (network), 429, or a 5xx."""
    status = getattr(error, "status_code", None)
    return status is None or status == 429 or status >= 500


class EmailChannel(BaseChannel):
    channel = "email"
    render_as = "email"

    def recipient(self, followup: FollowUp) -> str:
        customer = followup.case.customer
        return (getattr(customer, "email", "") or "") if customer is not None else ""

    def build(
        self, followup: FollowUp, message: RenderedMessage, *, recipient: str, links: MessageLinks
    ) -> EmailMultiAlternatives:
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
            to=[recipient],
            headers={
                # RFC 8058 one-click unsubscribe: mailbox providers POST to the link.
                "List-Unsubscribe": f"<{links.unsubscribe_channel}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        # Anymail attributes: ignored by Django's own backends, sent to the ESP by anymail's,
        # and returned in tracking events so the receiver finds the row.
        email.tags = ["graceful-cancel", followup.stage]  # type: ignore[attr-defined]
        email.metadata = {  # type: ignore[attr-defined]
            "followup": str(followup.pk),
            "case": followup.case.reference,
            "stage": followup.stage,
        }
        if message.html:
            email.attach_alternative(message.html, "text/html")
        return email

    def send(
        self, followup: FollowUp, message: RenderedMessage, *, recipient: str, links: MessageLinks
    ) -> SendResult:
        from anymail.exceptions import AnymailAPIError, AnymailError

        email = self.build(followup, message, recipient=recipient, links=links)
        try:
            email.send()
        except AnymailAPIError as error:
            raise ChannelError(str(error), transient=is_transient_api_error(error)) from error
        except AnymailError as error:
            # Invalid address, recipients refused, unsupported feature: retrying will not help.
            raise ChannelError(str(error), transient=False) from error
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
            raise ChannelError(str(error), transient=False) from error
        except (OSError, smtplib.SMTPException) as error:
            raise ChannelError(str(error), transient=True) from error
        status = getattr(email, "anymail_status", None)
        message_id = getattr(status, "message_id", None) if status is not None else None
        return SendResult(message_id="" if message_id is None else str(message_id))
