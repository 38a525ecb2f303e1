"""The phone channel: a call task for staff, with the stage's call script."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...models import CallTask
from .base import BaseChannel, PhoneRecipientMixin, SendResult

if TYPE_CHECKING:
    from ...models import FollowUp
    from ...rendering import RenderedMessage
    from ..links import MessageLinks


class CallTaskChannel(PhoneRecipientMixin, BaseChannel):
    channel = "phone"
    render_as = "phone"

    def send(
        self, followup: FollowUp, message: RenderedMessage, *, recipient: str, links: MessageLinks
    ) -> SendResult:
        # get_or_create on the one-to-one: a retried send never creates a second task.
        task, _ = CallTask.objects.get_or_create(
            followup=followup,
            defaults={
                "case": followup.case,
                "stage": followup.stage,
                "phone": recipient,
                "script": message.text,
                "assigned_to": followup.case.owner,
            },
        )
        return SendResult(message_id=f"call:{task.pk}")
