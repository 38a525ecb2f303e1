"""System checks of the outbound settings (webhooks and staff alerts); registered when
``AppConfig.ready()`` imports this module. The ids are the core's (docs/configuration.md):

* ``graceful_cancel.E003`` a ``WEBHOOK_*`` or ``ALERT_*`` value of the wrong type or outside its
  allowed values: an unknown rule, a rule sending to a channel that does not exist...
* ``graceful_cancel.E004`` a dispatcher or alert channel path that cannot be imported.
* ``graceful_cancel.E007`` an alert channel some rule uses lacks a required option (Slack without
  ``ALERT_SLACK_WEBHOOK_URL``), reported by the channel's own ``check()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from ..conf import SETTINGS_NAME, SHIPPED_COMPONENTS, Configurable, positive_int

HINTS = {
    "WEBHOOK": "See docs/webhooks.md and docs/configuration.md.",
    "ALERT": "See docs/alerts.md and docs/configuration.md.",
}


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _non_negative_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _dispatch(value: Any) -> bool:
    from .dispatch import DISPATCHERS

    return isinstance(value, str) and (value in DISPATCHERS or "." in value)


def _personal_data(value: Any) -> bool:
    from .events import PERSONAL_DATA_LEVELS

    return value in PERSONAL_DATA_LEVELS


def _channel_paths(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


#: Validators of the outbound core keys, each with what is expected.
VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "WEBHOOK_DISPATCH": (
        _dispatch,
        '"auto", "celery", "inline", "sweep" or a dispatcher\'s dotted path',
    ),
    "WEBHOOK_PERSONAL_DATA": (_personal_data, '"none", "contact" or "all"'),
    "WEBHOOK_TIMEOUT_SECONDS": (_positive_number, "a positive number of seconds"),
    "WEBHOOK_INLINE_TIMEOUT_SECONDS": (_positive_number, "a positive number of seconds"),
    "WEBHOOK_MAX_ATTEMPTS": (positive_int, "a positive whole number"),
    "WEBHOOK_RETRY_BACKOFF_SECONDS": (_non_negative_number, "a number of seconds, 0 or more"),
    "WEBHOOK_BATCH_SIZE": (positive_int, "a positive whole number"),
    "WEBHOOK_SWEEP_MAX_BATCHES": (positive_int, "a positive whole number"),
    "WEBHOOK_SENDING_TIMEOUT_MINUTES": (positive_int, "a positive whole number of minutes"),
    "ALERT_RULES": (lambda v: isinstance(v, dict), "a dict of rule name -> channels"),
    "ALERT_CHANNELS": (_channel_paths, "a dict of channel name -> dotted path"),
}


def _error(message: str, key: str, id: str) -> Error:
    return Error(message, hint=HINTS[key.split("_", 1)[0]], id=id)


@register(Tags.compatibility)
def check_outbound_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    user = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(user, dict):
        return []  # the core check reports it (E001)
    errors: list[CheckMessage] = []
    for key, (is_valid, expected) in VALIDATORS.items():
        if key in user and not is_valid(user[key]):
            errors.append(
                _error(
                    f"{SETTINGS_NAME}[{key!r}] is {user[key]!r}; expected {expected}.",
                    key,
                    "graceful_cancel.E003",
                )
            )
    dispatch = user.get("WEBHOOK_DISPATCH")
    if _dispatch(dispatch) and "." in str(dispatch):
        errors.extend(_import_error("WEBHOOK_DISPATCH", str(dispatch)))
    channels = user.get("ALERT_CHANNELS") or {}
    if _channel_paths(channels):
        for name, path in channels.items():
            errors.extend(_import_error(f"ALERT_CHANNELS'][{name!r}", path))
    if isinstance(user.get("ALERT_RULES"), dict):
        errors.extend(rule_errors(user["ALERT_RULES"]))
    return errors


def _import_error(key: str, path: str) -> list[CheckMessage]:
    try:
        import_string(path)
    except ImportError as exc:
        return [
            _error(
                f"{SETTINGS_NAME}[{key!r}] = {path!r} cannot be imported: {exc}",
                key,
                "graceful_cancel.E004",
            )
        ]
    return []


def rule_errors(rules: dict[str, Any]) -> list[CheckMessage]:
    """Unknown rules, malformed values, unknown channels; then each channel in use checks its
    own options (a missing Slack URL is E007)."""
    # Imported here: the rules read the models, which a check module must not need at import.
    from ..alerts.channels import channel_path
    from ..alerts.rules import RULES, rule_config

    errors: list[CheckMessage] = []
    used: list[str] = []
    for name, value in rules.items():
        config = rule_config(value)
        where = f"{SETTINGS_NAME}['ALERT_RULES'][{name!r}]"
        if name not in RULES:
            errors.append(
                _error(
                    f"{where}: no such rule; the rules are {', '.join(sorted(RULES))}.",
                    "ALERT",
                    "graceful_cancel.E003",
                )
            )
            continue
        if config is None:
            errors.append(
                _error(
                    f'{where} is {value!r}; expected a list of channels or a dict with "channels".',
                    "ALERT",
                    "graceful_cancel.E003",
                )
            )
            continue
        unknown_options = sorted(set(config.options) - set(RULES[name]))
        if unknown_options:
            errors.append(
                _error(
                    f"{where} has unknown options {unknown_options}; it takes "
                    f"{sorted(RULES[name]) or 'none'}.",
                    "ALERT",
                    "graceful_cancel.E003",
                )
            )
        threshold = config.options.get("min_monthly_value", 0)
        if not _non_negative_number(threshold):
            errors.append(
                _error(
                    f"{where}['min_monthly_value'] is {threshold!r}; expected a number.",
                    "ALERT",
                    "graceful_cancel.E003",
                )
            )
        for channel in config.channels:
            if channel_path(channel) is None:
                errors.append(
                    _error(
                        f"{where} sends to {channel!r}, which is no alert channel: add it to "
                        "ALERT_CHANNELS or use slack or owner_email.",
                        "ALERT",
                        "graceful_cancel.E003",
                    )
                )
            elif channel not in used:
                used.append(channel)
    for channel in used:
        path = channel_path(channel)
        try:
            component = import_string(path) if path else None
        except ImportError:
            continue  # reported above (E004)
        if isinstance(component, type) and issubclass(component, Configurable):
            # The core check already reports bad values of shipped channels' options (E003).
            shipped = path in SHIPPED_COMPONENTS
            errors.extend(
                m for m in component.check() if not (shipped and m.id == "graceful_cancel.E003")
            )
    return errors
