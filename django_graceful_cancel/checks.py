"""System checks for ``GRACEFUL_CANCEL``: misconfiguration is a clear error at start-up.

IDs are stable; docs/configuration.md lists them.

* ``graceful_cancel.E001`` ``GRACEFUL_CANCEL`` is not a dict.
* ``graceful_cancel.E002`` an unknown key (often a typo): neither a core key nor an option of the
  configured backend, of a configured channel or of a component shipped with the app.
* ``graceful_cancel.E003`` a value of the wrong type or outside its allowed values (core keys
  here, options by ``conf.check_options``).
* ``graceful_cancel.E004`` a dotted path that cannot be imported (core paths, channel backends).
* ``graceful_cancel.E005`` the subscription model or one of its configured fields does not exist
  (``ModelSubscriptionBackend.check``).
* ``graceful_cancel.E006`` the Stripe backend has no API key or no way to find a user's customer
  (``StripeSubscriptionBackend.check``).
* ``graceful_cancel.E007`` a required option of the configured backend or of a configured channel
  is not set (``conf.check_options``).

The core keys are checked here; then each configured component (the subscription backend, every
channel backend in use) checks its own options with its ``check()`` classmethod
(``conf.Configurable``), and the options of shipped components that are not configured are checked
for their values only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from .choices import Channel
from .conf import (
    DEFAULTS,
    IMPORT_STRINGS,
    SETTINGS_DOCS,
    SETTINGS_NAME,
    Configurable,
    check_options,
    declared_options,
    non_negative_int,
    optional_http_url,
    optional_str,
    positive_int,
    shipped_components,
)
from .followups.dispatch import DISPATCHERS

HINT = f"See {SETTINGS_DOCS} for every key and its allowed values."


# DRF's rate syntax: requests "/" a period whose first letter is s, m, h or d.
RATE = re.compile(r"\d+/[smhd][a-z]*")


def valid_sequences(value: Any) -> bool:
    from .followups.sequences import validate_sequences

    return isinstance(value, dict) and not validate_sequences(value)


#: Validators by key, each returning True for a good value, with what is expected.
VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "DEFAULT_EFFECTIVE": (
        lambda v: v in ("period_end", "immediately"),
        '"period_end" or "immediately"',
    ),
    "OFFER_COOLDOWN_DAYS": (non_negative_int, "a whole number of days, 0 or more"),
    "ABANDON_AFTER_HOURS": (positive_int, "a positive whole number of hours"),
    "PROVIDER_SYNC_MAX_ATTEMPTS": (positive_int, "a positive whole number"),
    "COMPLIANCE_PROFILE": (lambda v: v in ("default", "eu", "fr"), '"default", "eu" or "fr"'),
    "FROM_EMAIL": (optional_str, "None or an email address"),
    "BASE_TEMPLATE": (lambda v: isinstance(v, str) and bool(v), "a template name"),
    "ACCOUNT_URL": (lambda v: isinstance(v, str) and bool(v), "a URL name or a path"),
    "DECLARATION_RATE_LIMIT": (non_negative_int, "a whole number, 0 or more (0: no limit)"),
    "DECLARATION_RATE_WINDOW_MINUTES": (positive_int, "a positive whole number of minutes"),
    "SITE_NAME": (optional_str, "None or a string"),
    # Follow-ups (docs/followups.md)
    "FOLLOWUP_SEQUENCES": (valid_sequences, "a dict of reason slug -> list of step dicts"),
    "FOLLOWUP_SECONDS_PER_DAY": (
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
        "a positive number of seconds",
    ),
    "FOLLOWUP_DISPATCH": (
        lambda v: isinstance(v, str) and (v in DISPATCHERS or "." in v),
        ", ".join(f'"{name}"' for name in DISPATCHERS) + " or a dispatcher's dotted path",
    ),
    "FOLLOWUP_CHANNELS": (
        lambda v: isinstance(v, dict) and all(isinstance(p, str) for p in v.values()),
        "a dict of channel name -> dotted path",
    ),
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
    "FOLLOWUP_MAX_ATTEMPTS": (positive_int, "a positive whole number"),
    "FOLLOWUP_RETRY_BACKOFF_SECONDS": (
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
        "a number of seconds, 0 or more",
    ),
    "FOLLOWUP_BATCH_SIZE": (positive_int, "a positive whole number"),
    "FOLLOWUP_SWEEP_MAX_BATCHES": (positive_int, "a positive whole number"),
    "FOLLOWUP_SENDING_TIMEOUT_MINUTES": (positive_int, "a positive whole number of minutes"),
    "LINK_MAX_AGE_DAYS": (positive_int, "a positive whole number of days"),
    "SITE_URL": (optional_http_url, 'None or an absolute URL such as "https://www.example.com"'),
    "API_WRITE_THROTTLE_RATE": (
        lambda v: v is None or (isinstance(v, str) and bool(RATE.fullmatch(v))),
        'None or a DRF rate such as "30/min"',
    ),
    "IDEMPOTENCY_KEY_TTL_HOURS": (positive_int, "a positive whole number of hours"),
    "PURGE_AFTER_DAYS": (
        lambda v: v is None or positive_int(v),
        "None or a positive whole number of days",
    ),
    "SAVE_CHECK_DAYS": (
        lambda v: isinstance(v, (list, tuple)) and bool(v) and all(positive_int(d) for d in v),
        "a non-empty list of positive whole numbers of days",
    ),
    "REVENUE_HORIZON_MONTHS": (positive_int, "a positive whole number of months"),
    "DASHBOARD_DEFAULT_DAYS": (positive_int, "a positive whole number of days"),
    "DASHBOARD_CACHE_SECONDS": (non_negative_int, "a whole number of seconds, 0 or more"),
}


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    user = getattr(settings, SETTINGS_NAME, {})
    if user is None:
        return []
    if not isinstance(user, dict):
        return [Error(f"{SETTINGS_NAME} must be a dict.", hint=HINT, id="graceful_cancel.E001")]
    components, messages = configured_components(user)
    shipped = [c for c in shipped_components() if c not in components]
    known = set(DEFAULTS).union(*(declared_options(c) for c in [*components, *shipped]))
    errors = unknown_keys(user, known)
    for key, (is_valid, expected) in VALIDATORS.items():
        if key in user and not is_valid(user[key]):
            errors.append(
                Error(
                    f"{SETTINGS_NAME}[{key!r}] is {user[key]!r}; expected {expected}.",
                    hint=HINT,
                    id="graceful_cancel.E003",
                )
            )
    errors.extend(import_string_errors(user))
    errors.extend(messages)
    for component in shipped:
        errors.extend(check_options(component, required=False))
    for component in components:
        if isinstance(component, type) and issubclass(component, Configurable):
            errors.extend(component.check(app_configs=app_configs, **kwargs))
        else:  # a class that declares ``options`` without subclassing Configurable
            errors.extend(check_options(component))
    # A key two components share (SUBSCRIPTION_ACTIVE_STATUSES) is reported once.
    unique: dict[tuple[Any, ...], CheckMessage] = {}
    for message in errors:
        unique.setdefault((message.level, message.id, message.msg), message)
    return list(unique.values())


def unknown_keys(user: dict[str, Any], known: set[str]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for key in user:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            errors.append(
                Error(
                    f"Unknown {SETTINGS_NAME} key {key!r}.",
                    hint=hint + HINT,
                    id="graceful_cancel.E002",
                )
            )
    return errors


def import_string_errors(user: dict[str, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for key in sorted(IMPORT_STRINGS):
        value = user.get(key, DEFAULTS[key])
        if not isinstance(value, str):
            if not callable(value):
                errors.append(
                    Error(
                        f"{SETTINGS_NAME}[{key!r}] must be a dotted path.",
                        hint=HINT,
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
                    hint=HINT,
                    id="graceful_cancel.E004",
                )
            )
    return errors


def configured_components(user: dict[str, Any]) -> tuple[list[Any], list[CheckMessage]]:
    """The configured subscription backend and channel backend classes, each once, and E004 for
    each channel backend that cannot be imported."""
    found: list[Any] = []
    backend = user.get("SUBSCRIPTION_BACKEND", DEFAULTS["SUBSCRIPTION_BACKEND"])
    if isinstance(backend, str):
        try:
            backend = import_string(backend)
        except ImportError:
            backend = None  # reported as E004
    if backend is not None:
        found.append(backend)
    channels, errors = channel_backends(user)
    found.extend(c for c in channels if c not in found)
    return found, errors


def channel_backends(user: dict[str, Any]) -> tuple[list[type], list[CheckMessage]]:
    """The class of each channel in use: every built-in channel name and every configured one,
    resolved as a send resolves it (``get_channel``)."""
    configured = user.get("FOLLOWUP_CHANNELS") or {}
    if not (isinstance(configured, dict) and all(isinstance(p, str) for p in configured.values())):
        return [], []  # reported as E003
    # Imported here, like sequences above: the follow-up package loads the service layer and the
    # models, which this module (imported by AppConfig.ready()) must not need at import time.
    from .followups.channels import ChannelError, get_channel

    classes: list[type] = []
    errors: list[CheckMessage] = []
    for name in dict.fromkeys([*Channel.values, *configured]):
        try:
            channel = get_channel(name)
        except ImportError as exc:
            errors.append(
                Error(
                    f"{SETTINGS_NAME}['FOLLOWUP_CHANNELS'][{name!r}] = "
                    f"{configured.get(name)!r} cannot be imported: {exc}",
                    hint=HINT,
                    id="graceful_cancel.E004",
                )
            )
            continue
        except ChannelError:
            continue  # no backend for this name: a send says so
        if type(channel) not in classes:
            classes.append(type(channel))
    return classes, errors
