"""Deprecated: moved to ``django_graceful_cancel.backends.stripe.webhooks``; will be removed in 0.3.

Mount ``include("django_graceful_cancel.backends.stripe.webhooks")`` instead; the URL and its name
(``graceful_cancel_stripe_webhook``) are unchanged.
"""

import warnings

from .backends.stripe.webhooks import (
    HANDLED_EVENTS,
    connect_djstripe,
    djstripe_receiver,
    handle_event,
    stripe_webhook,
    urlpatterns,
)

__all__ = [
    "HANDLED_EVENTS",
    "connect_djstripe",
    "djstripe_receiver",
    "handle_event",
    "stripe_webhook",
    "urlpatterns",
]

warnings.warn(
    "django_graceful_cancel.stripe_webhooks moved to "
    "django_graceful_cancel.backends.stripe.webhooks; will be removed in 0.3.",
    DeprecationWarning,
    stacklevel=2,
)
