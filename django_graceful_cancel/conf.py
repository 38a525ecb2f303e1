"""Settings for django-graceful-cancel, read from one dict: ``settings.GRACEFUL_CANCEL``.

Every key, its default and what it means is listed in ``DEFAULTS`` below. Read settings through
``app_settings``::

    from django_graceful_cancel.conf import app_settings
    app_settings.OFFER_COOLDOWN_DAYS

Keys named in ``IMPORT_STRINGS`` hold dotted paths; reading them returns the imported object,
resolved at call time (never at import time) so ``override_settings`` and late configuration work.
Unknown keys and bad values are reported by the system checks in ``checks.py`` (``graceful_cancel.E0xx``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTINGS_NAME = "GRACEFUL_CANCEL"

DEFAULTS: dict[str, Any] = {
    # --- Subscriptions -------------------------------------------------------------------------
    # Dotted path of the class that talks to the host's subscriptions (see backends/base.py).
    "SUBSCRIPTION_BACKEND": "django_graceful_cancel.backends.model.ModelSubscriptionBackend",
    # For the model backend: the host's subscription model, as "app_label.ModelName".
    "SUBSCRIPTION_MODEL": None,
    # For the model backend: which field of the host model holds what. Values are field names or
    # "__" paths (e.g. "plan__price"); None means the model has no such field. Keys left out keep
    # their default (see backends/model.py: DEFAULT_FIELDS).
    "SUBSCRIPTION_FIELDS": {},
    # For the model backend: status values that count as an active subscription, and the value
    # written when a subscription is cancelled at once.
    "SUBSCRIPTION_ACTIVE_STATUSES": ["active", "trialing", "past_due"],
    "SUBSCRIPTION_CANCELED_STATUS": "canceled",
    # For the model backend: the field of the plan model that an offer's "plan" parameter names
    # (used by downgrade offers).
    "PLAN_LOOKUP_FIELD": "code",
    # When the cancellation takes effect by default: "period_end" (end of the paid period) or
    # "immediately".
    "DEFAULT_EFFECTIVE": "period_end",
    # --- Offers --------------------------------------------------------------------------------
    # Dotted path of the offer policy (see policies.py).
    "OFFER_POLICY": "django_graceful_cancel.policies.DefaultOfferPolicy",
    # No second offer to a customer within this many days of accepting one.
    "OFFER_COOLDOWN_DAYS": 365,
    # --- Cases ---------------------------------------------------------------------------------
    # Dotted path of the callable that scores how worth saving a case is (see priority.py).
    "PRIORITY_RULE": "django_graceful_cancel.priority.default_priority",
    # Open cases untouched for this many hours are marked abandoned by graceful_cancel_abandon.
    "ABANDON_AFTER_HOURS": 48,
    # Attempts at syncing a confirmed cancellation to the subscription backend before the case is
    # flagged for staff (the sync keeps being retried by graceful_cancel_sync; nothing is lost).
    "PROVIDER_SYNC_MAX_ATTEMPTS": 10,
    # Compliance profile applied to new cases: "default", "eu" or "fr" (see docs/compliance.md).
    "COMPLIANCE_PROFILE": "default",
    # --- Messages ------------------------------------------------------------------------------
    # From address of customer emails; None uses DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Name of the site in messages; None uses the current Site's name when django.contrib.sites is
    # installed, else "our service".
    "SITE_NAME": None,
    # --- Stripe (backends/stripe.py, docs/stripe.md) --------------------------------------------
    # Secret key of the Stripe account ("sk_live_..." / "sk_test_..."); required by the Stripe
    # backend.
    "STRIPE_API_KEY": None,
    # Base address of the Stripe API; None is Stripe's own. Set it to a local server such as
    # localstripe ("http://127.0.0.1:8420") for the demo and the tests.
    "STRIPE_API_BASE": None,
    # Network retries of the Stripe SDK per request (connection errors, 409, 429, 5xx).
    "STRIPE_MAX_NETWORK_RETRIES": 2,
    # Signing secret of the webhook endpoint ("whsec_..."), for stripe_webhooks.py; None
    # refuses every webhook.
    "STRIPE_WEBHOOK_SECRET": None,
    # Seconds a webhook's signed timestamp stays acceptable (replay protection).
    "STRIPE_WEBHOOK_TOLERANCE": 300,
    # From a Django user to their Stripe customer id: a field path on the user
    # ("profile__stripe_customer_id"), a dotted path to a callable f(user) -> id or None, or None
    # to use dj-stripe's Customer (its "subscriber") when dj-stripe is installed.
    "STRIPE_CUSTOMER_LOOKUP": None,
    # Plan codes (what downgrade offers' "plan" parameter names) -> Stripe price ids ("price_...")
    # or legacy plan ids; also turns a subscription's price back into its plan code.
    "STRIPE_PRICES": {},
    # Free-feature offers: feature name -> Stripe price id of the add-on given free for the
    # offer's "months".
    "STRIPE_FEATURE_PRICES": {},
    # Proration when a downgrade changes the price: None (the account's default, which is
    # "create_prorations"), "create_prorations", "none" or "always_invoice".
    "STRIPE_PRORATION_BEHAVIOR": None,
    # What Stripe does with invoices while a pause offer runs: "void", "keep_as_draft" or
    # "mark_uncollectible".
    "STRIPE_PAUSE_BEHAVIOR": "void",
    # Whether an immediate cancellation credits the unused part of the period.
    "STRIPE_PRORATE_ON_CANCEL": False,
}

# Keys whose values are dotted paths, imported when read.
IMPORT_STRINGS: frozenset[str] = frozenset(
    {"SUBSCRIPTION_BACKEND", "OFFER_POLICY", "PRIORITY_RULE"}
)


class AppSettings:
    """Attribute access to ``GRACEFUL_CANCEL`` with defaults, cached until settings change."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        self.defaults = DEFAULTS if defaults is None else defaults
        self._cached: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        if not hasattr(self, "_user_settings"):
            self._user_settings = getattr(settings, SETTINGS_NAME, {}) or {}
        return self._user_settings

    def __getattr__(self, attr: str) -> Any:
        if attr not in self.defaults:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: {attr!r}")
        value = self.user_settings.get(attr, self.defaults[attr])
        # Import strings are not cached on the instance: resolving them at call time keeps
        # replaceable classes replaceable (a test or a late setting change takes effect).
        if attr in IMPORT_STRINGS and isinstance(value, str):
            return import_string(value)
        self._cached.add(attr)
        setattr(self, attr, value)
        return value

    def raw(self, attr: str) -> Any:
        """The configured value without importing it (dotted paths stay strings)."""
        if attr not in self.defaults:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: {attr!r}")
        return self.user_settings.get(attr, self.defaults[attr])

    def reload(self) -> None:
        for attr in self._cached:
            delattr(self, attr)
        self._cached.clear()
        if hasattr(self, "_user_settings"):
            delattr(self, "_user_settings")


app_settings = AppSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        app_settings.reload()


setting_changed.connect(_reload)
