"""The Stripe backend (``backend.py``) and the webhook that keeps cases in step with Stripe
(``webhooks.py``, mounted on its own: ``include("django_graceful_cancel.backends.stripe.webhooks")``).

``"django_graceful_cancel.backends.stripe.StripeSubscriptionBackend"`` is the dotted path to put in
``GRACEFUL_CANCEL["SUBSCRIPTION_BACKEND"]``. The webhook module is not imported here: it needs the
app's models, and the backend must be importable before they are loaded.
"""

from .backend import (
    DEFAULT_FEEDBACK_CODES,
    STRIPE_ERRORS,
    ZERO_DECIMAL_CURRENCIES,
    StripeSubscriptionBackend,
    backend_error_from,
    customer_id_for,
    djstripe_customer_id,
    djstripe_secret_key,
    feedback_for,
    reason_for_feedback,
    stripe_errors,
)

__all__ = [
    "DEFAULT_FEEDBACK_CODES",
    "STRIPE_ERRORS",
    "ZERO_DECIMAL_CURRENCIES",
    "StripeSubscriptionBackend",
    "backend_error_from",
    "customer_id_for",
    "djstripe_customer_id",
    "djstripe_secret_key",
    "feedback_for",
    "reason_for_feedback",
    "stripe_errors",
]
