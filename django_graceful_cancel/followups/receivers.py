"""Delivery status from anymail's tracking webhooks; ``AppConfig.ready()`` calls ``connect()``."""

from __future__ import annotations

from typing import Any

from .actions import record_tracking_event

try:
    from anymail.signals import tracking as anymail_tracking
except ImportError:  # anymail is a dependency, but a stripped install should still start
    anymail_tracking = None


def followup_tracking(sender: Any, event: Any, esp_name: str = "", **kwargs: Any) -> None:
    """Update the follow-up row and the case timeline; idempotent on the event id.

    Errors propagate on purpose: anymail then answers the ESP with an error and the ESP
    retries the webhook later, which the idempotency makes safe.
    """
    record_tracking_event(event, esp_name=esp_name or "")


def connect() -> None:
    """Receive anymail's ``tracking`` signal, when anymail is installed (connecting twice is
    harmless)."""
    if anymail_tracking is not None:
        anymail_tracking.connect(
            followup_tracking, dispatch_uid="django_graceful_cancel.followup_tracking"
        )
