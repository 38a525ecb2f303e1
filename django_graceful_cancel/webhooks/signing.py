"""Standard Webhooks signatures (https://www.standardwebhooks.com), by the ``standardwebhooks``
package: the receiver verifies them with the same library (Python, JavaScript and others).

Each attempt is signed afresh: the ``webhook-timestamp`` is the time of the attempt (receivers
reject a message more than five minutes old), the ``webhook-id`` is the event's id, the same for
every attempt, so a receiver can drop a repeat.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from standardwebhooks import Webhook


def body(payload: dict) -> str:
    """The exact text posted (and signed): compact JSON."""
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def signed_headers(
    secret: str, *, event_id: str, data: str, at: datetime | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for posting ``data`` now (or ``at``)."""
    at = at or timezone.now()
    timestamp = int(at.timestamp())
    signature = Webhook(secret).sign(
        msg_id=event_id, timestamp=datetime.fromtimestamp(timestamp, tz=UTC), data=data
    )
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
