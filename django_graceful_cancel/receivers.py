"""The app's own signal receivers, connected in ``AppConfig.ready()``."""

from typing import Any

from django.dispatch import receiver

try:
    from anymail.signals import tracking as anymail_tracking
except ImportError:  # anymail is a dependency, but a stripped install should still start
    anymail_tracking = None


# --- Follow-ups: delivery status from anymail's tracking webhooks -------------------------------
if anymail_tracking is not None:

    @receiver(anymail_tracking, dispatch_uid="django_graceful_cancel.followup_tracking")
    def followup_tracking(sender: Any, event: Any, esp_name: str = "", **kwargs: Any) -> None:
        """Update the follow-up row and the case timeline; idempotent on the event id.

        Errors propagate on purpose: anymail then answers the ESP with an error and the ESP
        retries the webhook later, which the idempotency makes safe.
        """
        from .services.followups import record_tracking_event

        record_tracking_event(event, esp_name=esp_name or "")
