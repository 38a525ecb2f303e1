from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class GracefulCancelConfig(AppConfig):
    name = "django_graceful_cancel"
    label = "graceful_cancel"
    verbose_name = _("Graceful cancel")
    # Pinned so a host's DEFAULT_AUTO_FIELD never produces a surprise migration in this app.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .followups import receivers

        # Follow-up delivery status from anymail's tracking webhooks (docs/followups.md).
        receivers.connect()

        # What customers say reaches the people FEEDBACK_ROUTES names (docs/messages.md).
        from . import feedback

        feedback.connect()

        # Outbound webhooks and staff alerts (docs/webhooks.md): their settings' checks, and
        # erasure reaching the payloads they keep.
        from .webhooks import checks as webhook_checks  # noqa: F401  (registers the checks)
        from .webhooks import receivers as webhook_receivers

        webhook_receivers.connect()

        # A cancellation of a paused subscription ends its pause as "cancelled" (docs/pause.md).
        from . import signals
        from .services import pauses

        signals.case_cancelled.connect(
            pauses.on_case_cancelled, dispatch_uid="graceful_cancel:pause_cancelled"
        )

        if apps.is_installed("djstripe"):
            # Stripe subscription events through dj-stripe's signals (docs/stripe.md).
            from .backends.stripe.webhooks import connect_djstripe

            connect_djstripe()
