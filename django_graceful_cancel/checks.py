"""System checks for ``GRACEFUL_CANCEL``: misconfiguration is a clear error at start-up.

IDs are stable; docs/configuration.md lists them.

* ``graceful_cancel.E001`` ``GRACEFUL_CANCEL`` is not a dict.
* ``graceful_cancel.E002`` an unknown key (often a typo).
* ``graceful_cancel.E003`` a value of the wrong type or outside its allowed values.
* ``graceful_cancel.E004`` a dotted path that cannot be imported.
* ``graceful_cancel.E005`` the subscription model or one of its configured fields does not exist.
* ``graceful_cancel.E006`` the Stripe backend has no API key or no way to find a user's customer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import FieldDoesNotExist
from django.utils.module_loading import import_string

from .conf import DEFAULTS, IMPORT_STRINGS, SETTINGS_NAME

_HINT = "See docs/configuration.md for every key and its allowed values."


# DRF's rate syntax: requests "/" a period whose first letter is s, m, h or d.
_RATE = re.compile(r"\d+/[smhd][a-z]*")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _non_negative_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _valid_sequences(value: Any) -> bool:
    from .sequences import validate_sequences

    return isinstance(value, dict) and not validate_sequences(value)


#: Validators by key, each returning True for a good value, with what is expected.
VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "SUBSCRIPTION_MODEL": (_optional_str, 'None or "app_label.ModelName"'),
    "SUBSCRIPTION_FIELDS": (lambda v: isinstance(v, dict), "a dict of field names"),
    "SUBSCRIPTION_ACTIVE_STATUSES": (
        lambda v: isinstance(v, (list, tuple)) and bool(v) and all(isinstance(s, str) for s in v),
        "a non-empty list of strings",
    ),
    "SUBSCRIPTION_CANCELED_STATUS": (lambda v: isinstance(v, str), "a string"),
    "PLAN_LOOKUP_FIELD": (lambda v: isinstance(v, str) and bool(v), "a field name"),
    "DEFAULT_EFFECTIVE": (
        lambda v: v in ("period_end", "immediately"),
        '"period_end" or "immediately"',
    ),
    "OFFER_COOLDOWN_DAYS": (_non_negative_int, "a whole number of days, 0 or more"),
    "ABANDON_AFTER_HOURS": (_positive_int, "a positive whole number of hours"),
    "PROVIDER_SYNC_MAX_ATTEMPTS": (_positive_int, "a positive whole number"),
    "COMPLIANCE_PROFILE": (lambda v: v in ("default", "eu", "fr"), '"default", "eu" or "fr"'),
    "FROM_EMAIL": (_optional_str, "None or an email address"),
    "BASE_TEMPLATE": (lambda v: isinstance(v, str) and bool(v), "a template name"),
    "ACCOUNT_URL": (lambda v: isinstance(v, str) and bool(v), "a URL name or a path"),
    "DECLARATION_RATE_LIMIT": (_non_negative_int, "a whole number, 0 or more (0: no limit)"),
    "DECLARATION_RATE_WINDOW_MINUTES": (_positive_int, "a positive whole number of minutes"),
    "SITE_NAME": (_optional_str, "None or a string"),
    # Stripe (docs/stripe.md)
    "STRIPE_API_KEY": (_optional_str, "None or a Stripe secret key"),
    "STRIPE_API_BASE": (
        lambda v: v is None or (isinstance(v, str) and v.startswith(("http://", "https://"))),
        'None or an address such as "http://127.0.0.1:8420"',
    ),
    "STRIPE_MAX_NETWORK_RETRIES": (_non_negative_int, "a whole number, 0 or more"),
    "STRIPE_WEBHOOK_SECRET": (_optional_str, 'None or the endpoint\'s "whsec_..." secret'),
    "STRIPE_WEBHOOK_TOLERANCE": (_positive_int, "a positive whole number of seconds"),
    "STRIPE_CUSTOMER_LOOKUP": (
        lambda v: v is None or callable(v) or (isinstance(v, str) and bool(v)),
        "None (dj-stripe), a user field path or a dotted path to a callable",
    ),
    "STRIPE_PRICES": (
        lambda v: isinstance(v, dict) and all(isinstance(p, str) for p in v.values()),
        "a dict of plan code -> Stripe price id",
    ),
    "STRIPE_FEATURE_PRICES": (
        lambda v: isinstance(v, dict) and all(isinstance(p, str) for p in v.values()),
        "a dict of feature -> Stripe price id",
    ),
    "STRIPE_PRORATION_BEHAVIOR": (
        lambda v: v in (None, "create_prorations", "none", "always_invoice"),
        'None, "create_prorations", "none" or "always_invoice"',
    ),
    "STRIPE_PAUSE_BEHAVIOR": (
        lambda v: v in ("void", "keep_as_draft", "mark_uncollectible"),
        '"void", "keep_as_draft" or "mark_uncollectible"',
    ),
    "STRIPE_PRORATE_ON_CANCEL": (lambda v: isinstance(v, bool), "True or False"),
    "STRIPE_EXTENSION_PRORATION_BEHAVIOR": (
        lambda v: v in (None, "create_prorations", "none", "always_invoice"),
        'None, "create_prorations", "none" or "always_invoice"',
    ),
    # Follow-ups (docs/followups.md)
    "FOLLOWUP_SEQUENCES": (_valid_sequences, "a dict of reason slug -> list of step dicts"),
    "FOLLOWUP_SECONDS_PER_DAY": (
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
        "a positive number of seconds",
    ),
    "FOLLOWUP_DISPATCH": (
        lambda v: v in ("celery", "inline", "sweep"),
        '"celery", "inline" or "sweep"',
    ),
    "FOLLOWUP_CHANNELS": (
        lambda v: isinstance(v, dict) and all(isinstance(p, str) for p in v.values()),
        "a dict of channel name -> dotted path",
    ),
    "TWILIO": (lambda v: isinstance(v, dict), "a dict of Twilio credentials"),
    "FOLLOWUP_QUIET_HOURS": (
        lambda v: (
            v is None
            or (
                isinstance(v, (list, tuple))
                and len(v) == 2
                and all(isinstance(h, int) and 0 <= h <= 23 for h in v)
            )
        ),
        "None or [start hour, end hour], hours 0-23",
    ),
    "FOLLOWUP_MIN_INTERVAL_HOURS": (
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
        "a number of hours, 0 or more",
    ),
    "FOLLOWUP_MAX_ATTEMPTS": (_positive_int, "a positive whole number"),
    "FOLLOWUP_RETRY_BACKOFF_SECONDS": (
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
        "a number of seconds, 0 or more",
    ),
    "FOLLOWUP_BATCH_SIZE": (_positive_int, "a positive whole number"),
    "FOLLOWUP_SWEEP_MAX_BATCHES": (_positive_int, "a positive whole number"),
    "FOLLOWUP_SENDING_TIMEOUT_MINUTES": (_positive_int, "a positive whole number of minutes"),
    "LINK_MAX_AGE_DAYS": (_positive_int, "a positive whole number of days"),
    "SITE_URL": (
        lambda v: v is None or (isinstance(v, str) and v.startswith(("http://", "https://"))),
        'None or an absolute URL such as "https://www.example.com"',
    ),
    "API_WRITE_THROTTLE_RATE": (
        lambda v: v is None or (isinstance(v, str) and bool(_RATE.fullmatch(v))),
        'None or a DRF rate such as "30/min"',
    ),
    "IDEMPOTENCY_KEY_TTL_HOURS": (_positive_int, "a positive whole number of hours"),
    "PURGE_AFTER_DAYS": (
        lambda v: v is None or _positive_int(v),
        "None or a positive whole number of days",
    ),
    "SAVE_CHECK_DAYS": (
        lambda v: isinstance(v, (list, tuple)) and bool(v) and all(_positive_int(d) for d in v),
        "a non-empty list of positive whole numbers of days",
    ),
    "REVENUE_HORIZON_MONTHS": (_positive_int, "a positive whole number of months"),
    "DASHBOARD_DEFAULT_DAYS": (_positive_int, "a positive whole number of days"),
    "DASHBOARD_CACHE_SECONDS": (_non_negative_int, "a whole number of seconds, 0 or more"),
}


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    user = getattr(settings, SETTINGS_NAME, {})
    if user is None:
        return []
    if not isinstance(user, dict):
        return [Error(f"{SETTINGS_NAME} must be a dict.", hint=_HINT, id="graceful_cancel.E001")]
    errors: list[Error] = []
    for key in user:
        if key not in DEFAULTS:
            close = difflib.get_close_matches(str(key), DEFAULTS, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            errors.append(
                Error(
                    f"Unknown {SETTINGS_NAME} key {key!r}.",
                    hint=hint + _HINT,
                    id="graceful_cancel.E002",
                )
            )
    for key, (is_valid, expected) in VALIDATORS.items():
        if key in user and not is_valid(user[key]):
            errors.append(
                Error(
                    f"{SETTINGS_NAME}[{key!r}] is {user[key]!r}; expected {expected}.",
                    hint=_HINT,
                    id="graceful_cancel.E003",
                )
            )
    for key in sorted(IMPORT_STRINGS):
        value = user.get(key, DEFAULTS[key])
        if not isinstance(value, str):
            if not callable(value):
                errors.append(
                    Error(
                        f"{SETTINGS_NAME}[{key!r}] must be a dotted path.",
                        hint=_HINT,
                        id="graceful_cancel.E003",
                    )
                )
            continue
        try:
            import_string(value)
        except ImportError as exc:
            errors.append(
                Error(
                    f"{SETTINGS_NAME}[{key!r}] = {value!r} cannot be imported: {exc}",
                    hint=_HINT,
                    id="graceful_cancel.E004",
                )
            )
    errors.extend(_check_subscription_model(user))
    errors.extend(_check_stripe(user))
    return errors


def _check_subscription_model(user: dict[str, Any]) -> list[Error]:
    from .backends.model import DEFAULT_FIELDS, ModelSubscriptionBackend

    backend_path = user.get("SUBSCRIPTION_BACKEND", DEFAULTS["SUBSCRIPTION_BACKEND"])
    try:
        backend = import_string(backend_path) if isinstance(backend_path, str) else backend_path
    except ImportError:
        return []  # reported as E004
    if not (isinstance(backend, type) and issubclass(backend, ModelSubscriptionBackend)):
        return []
    label = user.get("SUBSCRIPTION_MODEL")
    if not label or not isinstance(label, str):
        return [
            Error(
                f'{SETTINGS_NAME}["SUBSCRIPTION_MODEL"] must name your subscription model '
                '("app_label.ModelName") when the model backend is used.',
                hint=_HINT,
                id="graceful_cancel.E005",
            )
        ]
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return [
            Error(
                f'{SETTINGS_NAME}["SUBSCRIPTION_MODEL"] = {label!r} is not an installed model.',
                hint=_HINT,
                id="graceful_cancel.E005",
            )
        ]
    configured = user.get("SUBSCRIPTION_FIELDS") or {}
    if not isinstance(configured, dict):
        return []  # reported as E003
    fields = {**DEFAULT_FIELDS, **configured}
    errors = []
    for key, path in fields.items():
        if key not in DEFAULT_FIELDS:
            errors.append(
                Error(
                    f'Unknown {SETTINGS_NAME}["SUBSCRIPTION_FIELDS"] key {key!r}.',
                    hint=f"Known keys: {', '.join(DEFAULT_FIELDS)}.",
                    id="graceful_cancel.E005",
                )
            )
            continue
        if path and not _path_exists(model, path):
            errors.append(
                Error(
                    f'{SETTINGS_NAME}["SUBSCRIPTION_FIELDS"][{key!r}] = {path!r}: '
                    f"{model._meta.label} has no such field.",
                    hint="Set it to the right field name, or None if the model has none.",
                    id="graceful_cancel.E005",
                )
            )
    return errors


def _path_exists(model: Any, path: str) -> bool:
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            # A property on the model is fine for read-only keys such as "plan__price".
            return hasattr(current, part)
        if field.is_relation and field.related_model is not None:
            current = field.related_model
    return True


def _check_stripe(user: dict[str, Any]) -> list[Error]:
    """With the Stripe backend: a key to call Stripe with, and a way to find the customer."""
    backend_path = user.get("SUBSCRIPTION_BACKEND", DEFAULTS["SUBSCRIPTION_BACKEND"])
    if not (isinstance(backend_path, str) and backend_path.endswith(".StripeSubscriptionBackend")):
        return []
    errors = []
    if not user.get("STRIPE_API_KEY") and not apps.is_installed("djstripe"):
        errors.append(
            Error(
                f'{SETTINGS_NAME}["STRIPE_API_KEY"] must be set when the Stripe backend is used.',
                hint="Read the secret key from the environment. See docs/stripe.md.",
                id="graceful_cancel.E006",
            )
        )
    if user.get("STRIPE_CUSTOMER_LOOKUP") is None and not apps.is_installed("djstripe"):
        errors.append(
            Error(
                f'{SETTINGS_NAME}["STRIPE_CUSTOMER_LOOKUP"] is not set and dj-stripe is not '
                "installed: the Stripe backend cannot find a user's customer.",
                hint='Name a user field ("profile__stripe_customer_id") or a callable. '
                "See docs/stripe.md.",
                id="graceful_cancel.E006",
            )
        )
    return errors
