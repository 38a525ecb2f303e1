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
    # --- Customer pages (docs/flow.md, docs/templates.md) -----------------------------------
    # Template the flow's pages extend; it must define the blocks "title", "extra_head" and
    # "content" (e.g. your site's "base.html"). The default is a plain stand-alone page.
    "BASE_TEMPLATE": "django_graceful_cancel/standalone.html",
    # Where "Back to my account" links go on the flow's pages: a URL name or a path.
    "ACCOUNT_URL": "/",
    # The eu profile's public declaration page: at most this many declarations per client
    # address and per email address within DECLARATION_RATE_WINDOW_MINUTES (0 turns it off).
    "DECLARATION_RATE_LIMIT": 5,
    "DECLARATION_RATE_WINDOW_MINUTES": 60,
    # --- Messages ------------------------------------------------------------------------------
    # From address of customer emails; None uses DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Name of the site in messages; None uses the current Site's name when django.contrib.sites is
    # installed, else "our service".
    "SITE_NAME": None,
    # --- Follow-ups (docs/followups.md) ---------------------------------------------------------
    # Sequences by reason slug, plus "default" for every other reason (and no reason). Each is a
    # list of steps: {"stage": "thank_you", "days": 3, "channel": "preferred", "consent": True,
    # "template": "thank_you"}. "channel" is "preferred" (the customer's choice) or a channel;
    # "consent": True sends the step only to customers who agreed to follow-ups (without consent,
    # any step goes by email only); "template" defaults to the stage. A "default" left out keeps
    # the built-in one (sequences.py: only the confirmation goes without consent).
    "FOLLOWUP_SEQUENCES": {},
    # How many seconds a sequence "day" lasts: 86400 in production; the demo sets 0.5 so the
    # whole sequence (30 days) plays in 15 seconds. Also scales the one-message-per-day spacing.
    "FOLLOWUP_SECONDS_PER_DAY": 86400,
    # How a follow-up that is due now (the confirmation) leaves after the commit: "celery"
    # enqueues the send task on commit (the sweep catches anything the broker lost), "inline"
    # sends it in the same process right after the commit (sites without Celery workers), "sweep"
    # leaves it to the next sweep (graceful_cancel_send_followups or the beat task).
    "FOLLOWUP_DISPATCH": "celery",
    # Channel backends by channel name (dotted paths; see channels/base.py). Channels left out
    # keep their default: email through Django's mail API, SMS and WhatsApp on the console,
    # phone as a call task for staff.
    "FOLLOWUP_CHANNELS": {},
    # Twilio credentials for channels.twilio: {"ACCOUNT_SID": ..., "AUTH_TOKEN": ...,
    # "FROM_NUMBER": "+1...", "WHATSAPP_FROM": "+1..."}.
    "TWILIO": {},
    # Local hours [start, end) in the customer's time zone when nothing but the confirmation is
    # sent; messages due then wait until the end. None disables quiet hours.
    "FOLLOWUP_QUIET_HOURS": [21, 8],
    # Minimum hours between two follow-ups to the same customer (the confirmation is exempt);
    # 0 disables the limit.
    "FOLLOWUP_MIN_INTERVAL_HOURS": 24,
    # Attempts at a transient failure (ESP down, rate limit) before the row is marked failed.
    "FOLLOWUP_MAX_ATTEMPTS": 5,
    # Retry delay after the first transient failure, doubled after each further one.
    "FOLLOWUP_RETRY_BACKOFF_SECONDS": 60,
    # Rows the sweep claims per batch, and batches per sweep run.
    "FOLLOWUP_BATCH_SIZE": 200,
    "FOLLOWUP_SWEEP_MAX_BATCHES": 50,
    # A row left "sending" this long (its worker died mid-send) goes back to the queue. The
    # message may then be sent twice: the only case where that can happen.
    "FOLLOWUP_SENDING_TIMEOUT_MINUTES": 30,
    # Days the signed links in follow-ups (unsubscribe, survey, reactivate) stay valid.
    "LINK_MAX_AGE_DAYS": 60,
    # Absolute address of the site for links in messages sent by workers, e.g.
    # "https://www.example.com"; None uses the current Site's domain over https, else
    # "http://localhost:8000".
    "SITE_URL": None,
    # --- REST API (docs/api.md) -----------------------------------------------------------------
    # Rate of the API's write endpoints per user (DRF syntax: "30/min", "500/day"), used when
    # REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] has no "graceful_cancel_write" entry; None turns the
    # app's own write throttle off.
    "API_WRITE_THROTTLE_RATE": "30/min",
    # Hours an Idempotency-Key (per customer) is remembered and its first response replayed.
    "IDEMPOTENCY_KEY_TTL_HOURS": 24,
    # --- Retention desk and privacy (docs/admin.md, docs/privacy.md) ----------------------------
    # Closed cases older than this many days are deleted by graceful_cancel_purge (and its task);
    # None keeps them for ever. The purge is recorded in the privacy log.
    "PURGE_AFTER_DAYS": None,
    # Days after a save at which the subscription backend is asked whether the customer is still
    # subscribed; a save is "definitive" only when the last check says so.
    "SAVE_CHECK_DAYS": [30, 60, 90],
    # Months of the customer's price counted as revenue kept by a save, before the offer's cost.
    "REVENUE_HORIZON_MONTHS": 12,
    # Days shown by the dashboard when no date range is chosen.
    "DASHBOARD_DEFAULT_DAYS": 365,
    # Seconds the admin dashboard keeps its figures in Django's default cache (each is a scan of
    # the cases in the range); 0 computes them on every view. "Refresh" on the page bypasses it.
    "DASHBOARD_CACHE_SECONDS": 300,
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
    # Proration sent with an extension offer's new trial end: "none" (the free days are the
    # whole gift; Stripe's default would also credit the unused part of the period), None (send
    # nothing: the account's default; localstripe needs this) or "create_prorations".
    "STRIPE_EXTENSION_PRORATION_BEHAVIOR": "none",
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
