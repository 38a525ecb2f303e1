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
* ``graceful_cancel.E040`` ``BASE_TEMPLATE`` cannot be found or loaded.
* ``graceful_cancel.E041`` ``BASE_TEMPLATE`` does not render a ``content`` block (the flow's
  pages would be empty).
* ``graceful_cancel.W042`` ``SITE_URL`` is not set while ``DEBUG`` is off: links in follow-ups
  sent by a worker would point to a guessed address.
* ``graceful_cancel.W043`` ``FOLLOWUP_DISPATCH = "celery"`` but this process has no Celery app
  with a broker: the confirmation would wait for the sweep.
* ``graceful_cancel.I044`` ``FOLLOWUP_DISPATCH = "sweep"``: follow-ups leave only when the sweep
  runs (schedule it).
* ``graceful_cancel.E070`` a ``COMPLIANCE_PROFILES`` entry that is not a profile
  (``compliance.check_profiles``).
* ``graceful_cancel.E071`` a ``DEFAULT_JURISDICTION``, jurisdiction header or
  ``JURISDICTION_PROFILES`` entry the resolver cannot use (``jurisdiction.check_jurisdiction_settings``).
* ``graceful_cancel.W050`` (deploy) the API's write throttle is on but Django's default cache is
  per-process (``LocMemCache``) or ``DummyCache``: each process counts on its own.
* ``graceful_cancel.W051`` (deploy) ``SECURE_PROXY_SSL_HEADER`` says a proxy is in front, a rate
  limit is on, and ``CLIENT_IP`` is not set: every client would share the proxy's address.

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
from django.core.checks import CheckMessage, Error, Info, Tags, Warning, register
from django.utils.module_loading import import_string

from .catalogue.routes import validate_routes
from .choices import Channel
from .compliance import check_profiles, known_profile, rules_for
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
from .followups.dispatch import DISPATCHERS, delivery_problem
from .rendering import validate_goodbye
from .services.inputs import valid_phone_region

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
    # Returns and win-back (docs/returns.md)
    "WINBACK_HOLDOUT_PERCENT": (
        lambda v: non_negative_int(v) and v <= 50,
        "a whole number from 0 to 50",
    ),
    "WINBACK_OFFERS": (
        lambda v: isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v),
        "a list of offer slugs",
    ),
    # Pauses and customers who went dark (docs/pause.md, docs/admin.md)
    "PAUSE_REMINDER_DAYS": (non_negative_int, "a whole number of days, 0 or more"),
    "PAUSE_MAX_PER_YEAR": (lambda v: v is None or positive_int(v), "None or a positive number"),
    "PAUSE_MAX_DAYS": (lambda v: v is None or positive_int(v), "None or a positive number"),
    "WENT_DARK_AFTER_DAYS": (lambda v: v is None or positive_int(v), "None or a number of days"),
    "WENT_DARK_MIN_PRIORITY": (non_negative_int, "a whole number, 0 or more"),
    "PROVIDER_SYNC_MAX_ATTEMPTS": (positive_int, "a positive whole number"),
    "COMPLIANCE_PROFILE": (
        lambda v: known_profile(v),
        '"us", "us-mn", "de", "fr", "eu" or a profile of COMPLIANCE_PROFILES',
    ),
    "FROM_EMAIL": (optional_str, "None or an email address"),
    "BASE_TEMPLATE": (lambda v: isinstance(v, str) and bool(v), "a template name"),
    "ACCOUNT_URL": (lambda v: isinstance(v, str) and bool(v), "a URL name or a path"),
    "PHONE_REGION": (valid_phone_region, 'None or a region code such as "ES"'),
    "DECLARATION_RATE_LIMIT": (non_negative_int, "a whole number, 0 or more (0: no limit)"),
    "DECLARATION_RATE_WINDOW_MINUTES": (positive_int, "a positive whole number of minutes"),
    "SITE_NAME": (optional_str, "None or a string"),
    # Messages (docs/messages.md)
    "FORMAL_REGISTER": (
        lambda v: (
            isinstance(v, dict)
            and all(isinstance(k, str) and isinstance(f, bool) for k, f in v.items())
        ),
        'a dict of language code -> True (formal) or False (informal), e.g. {"es": False}',
    ),
    "FEEDBACK_ROUTES": (
        lambda v: not validate_routes(v),
        'a dict of reason slug or category -> {"to": [addresses], "groups": [names], "mode": '
        '"each" or "digest", "every": "daily" or "weekly"}',
    ),
    "WHATS_NEW": (
        lambda v: v is None or callable(v) or (isinstance(v, str) and bool(v)),
        "None, a callable's dotted path or a template name",
    ),
    "GOODBYE": (
        lambda v: not validate_goodbye(v),
        'a dict of "export", "export_link_days", "export_extra", "keeps_content" and "gift"',
    ),
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
    "WITHDRAWAL_DAYS": (
        lambda v: (
            isinstance(v, dict)
            and all(isinstance(k, str) and positive_int(d) for k, d in v.items())
        ),
        'a dict of compliance profile to a positive whole number of days, e.g. {"de": 14}',
    ),
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
    "EVIDENCE_RETENTION_DAYS": (positive_int, "a positive whole number of days"),
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
        if value is None and key == "INSIGHTS_CLASSIFIER":
            continue  # the private classifier is off by default (docs/insights.md)
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


# --- Delivery and pages: what only fails at run time, in the customer's face -----------------


def _core_value(user: dict[str, Any], key: str) -> Any:
    return user.get(key, DEFAULTS[key])


@register(Tags.compatibility)
def check_delivery(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W043/I044: a follow-up dispatcher that cannot send the confirmation at once; E004: one
    that cannot be imported; W042: links in worker-sent messages without the site's address."""
    user = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(user, dict):
        return []  # E001
    messages: list[CheckMessage] = []
    dispatch = _core_value(user, "FOLLOWUP_DISPATCH")
    if isinstance(dispatch, str) and dispatch not in DISPATCHERS and "." in dispatch:
        try:
            import_string(dispatch)
        except ImportError as exc:
            messages.append(
                Error(
                    f"{SETTINGS_NAME}['FOLLOWUP_DISPATCH'] = {dispatch!r} cannot be imported: "
                    f"{exc}",
                    hint=HINT,
                    id="graceful_cancel.E004",
                )
            )
    problem = delivery_problem(dispatch)
    if problem is not None and problem[0] == "celery":
        messages.append(
            Warning(
                f"{SETTINGS_NAME}['FOLLOWUP_DISPATCH'] is \"celery\" but {problem[1]}: the "
                "confirmation a customer is promised would wait, unsent, for the next sweep.",
                hint='Load your Celery app with a broker_url (CELERY_BROKER_URL), or use "auto" '
                "(the default: Celery when it can deliver, else inline). See "
                "docs/configuration.md#followup_dispatch.",
                id="graceful_cancel.W043",
            )
        )
    elif problem is not None:
        messages.append(
            Info(
                f"{SETTINGS_NAME}['FOLLOWUP_DISPATCH'] is \"sweep\": {problem[1]}.",
                hint="Schedule the sweep every minute (cron or celery beat; docs/deployment.md), "
                'or use "auto".',
                id="graceful_cancel.I044",
            )
        )
    if not settings.DEBUG and not _core_value(user, "SITE_URL"):
        from django.apps import apps

        guess = (
            "the current Site's domain (django.contrib.sites) over https"
            if apps.is_installed("django.contrib.sites")
            else '"http://localhost:8000"'
        )
        messages.append(
            Warning(
                f"{SETTINGS_NAME}['SITE_URL'] is not set while DEBUG is off: links in "
                "follow-ups sent by a worker (reactivate, survey, unsubscribe) would be built "
                f"on {guess}.",
                hint='Set it to your site\'s address, e.g. "https://www.example.com". See '
                "docs/configuration.md#site_url.",
                id="graceful_cancel.W042",
            )
        )
    return messages


@register(Tags.templates)
def check_base_template(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E040: ``BASE_TEMPLATE`` cannot be loaded; E041: it renders no ``content`` block."""
    user = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(user, dict):
        return []  # E001
    name = _core_value(user, "BASE_TEMPLATE")
    if not isinstance(name, str) or not name:
        return []  # E003
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.base import Template
    from django.template.loader import get_template

    hint = "See docs/templates.md (Your site's layout)."
    try:
        template = get_template(name)
    except TemplateDoesNotExist:
        return [
            Error(
                f"{SETTINGS_NAME}['BASE_TEMPLATE'] = {name!r}: no such template.",
                hint="Name a template your TEMPLATES can find. " + hint,
                id="graceful_cancel.E040",
            )
        ]
    except TemplateSyntaxError as exc:
        return [
            Error(
                f"{SETTINGS_NAME}['BASE_TEMPLATE'] = {name!r} cannot be loaded: {exc}",
                hint=hint,
                id="graceful_cancel.E040",
            )
        ]
    inner = getattr(template, "template", None)
    if not isinstance(inner, Template):
        return []  # another template engine: not ours to read
    blocks = rendered_blocks(inner)
    if blocks is not None and "content" not in blocks:
        return [
            Error(
                f"{SETTINGS_NAME}['BASE_TEMPLATE'] = {name!r} renders no block named "
                '"content": the flow\'s pages would show nothing.',
                hint="Add {% block content %}{% endblock %} where the page body goes, or point "
                "BASE_TEMPLATE at a small adapter template that maps your block names. " + hint,
                id="graceful_cancel.E041",
            )
        ]
    return []


def rendered_blocks(template: Any, depth: int = 0) -> set[str] | None:
    """The names of the blocks ``template`` renders, following ``{% extends %}`` to its root;
    None when that cannot be known before a request (a parent named by a variable)."""
    from django.template import Context, TemplateDoesNotExist
    from django.template.loader_tags import BlockNode, ExtendsNode

    nodelist = template.nodelist
    extends = nodelist.get_nodes_by_type(ExtendsNode)
    if not extends:
        return {block.name for block in nodelist.get_nodes_by_type(BlockNode)}
    if depth > 20:
        return None
    parent_name = extends[0].parent_name.resolve(Context(), ignore_failures=True)
    if not isinstance(parent_name, str) or not parent_name or parent_name == template.name:
        return None
    try:
        parent = template.engine.get_template(parent_name)
    except TemplateDoesNotExist:
        return None  # rendering would fail too; the error names the missing parent
    blocks = rendered_blocks(parent, depth + 1)
    if blocks is None:
        return None
    # A block the child overrides renders in its parent's place, with any blocks nested in it.
    overrides = extends[0].blocks
    changed = True
    while changed:
        changed = False
        for name, block in overrides.items():
            if name in blocks:
                nested = {b.name for b in block.nodelist.get_nodes_by_type(BlockNode)}
                if not nested <= blocks:
                    blocks |= nested
                    changed = True
    return blocks


# --- Rate limits: the client's address and a shared cache (docs/deployment.md) ----------------

#: Django's cache backends that keep their data in one process (or nowhere).
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _value(user: dict[str, Any], key: str) -> Any:
    return user.get(key, DEFAULTS[key])


VALIDATORS.update(
    {
        "DECLARATION_MAIL_LIMIT": (non_negative_int, "a whole number, 0 or more (0: no limit)"),
        "DECLARATION_CONFIRM_DAYS": (positive_int, "a positive whole number of days"),
    }
)


@register(Tags.compatibility)
def check_compliance(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E070: the site's own compliance profiles; E071: the jurisdiction settings."""
    from .jurisdiction import check_jurisdiction_settings

    user = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(user, dict):
        return []
    return [*check_profiles(user.get("COMPLIANCE_PROFILES")), *check_jurisdiction_settings(user)]


@register(Tags.compatibility)
def check_client_ip(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E003/E004: a ``CLIENT_IP`` the client-address module cannot use."""
    from .client_ip import check_client_ip_setting

    user = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(user, dict) or "CLIENT_IP" not in user:
        return []
    problem = check_client_ip_setting(user["CLIENT_IP"])
    if problem is None:
        return []
    check_id, what = problem
    return [
        Error(
            f"{SETTINGS_NAME}['CLIENT_IP'] {what}.",
            hint="See docs/deployment.md#the-clients-address.",
            id=check_id,
        )
    ]


def _api_throttle_on(user: dict[str, Any]) -> bool:
    rates = (getattr(settings, "REST_FRAMEWORK", None) or {}).get("DEFAULT_THROTTLE_RATES") or {}
    if "graceful_cancel_write" in rates:
        return rates["graceful_cancel_write"] is not None
    return _value(user, "API_WRITE_THROTTLE_RATE") is not None


def _declaration_limit_on(user: dict[str, Any]) -> bool:
    """Whether a no-login page keys ``DECLARATION_RATE_LIMIT`` on the client's address: some
    profile a customer can get has the declaration page or a no-login withdrawal page."""
    return bool(_value(user, "DECLARATION_RATE_LIMIT")) and any(
        rules.declaration_page
        or (rules.withdrawal_function and not rules.withdrawal_login_required)
        for rules in map(rules_for, _reachable_profiles(user))
    )


def _reachable_profiles(user: dict[str, Any]) -> set[str]:
    """Every profile a customer can be given: ``COMPLIANCE_PROFILE`` (no jurisdiction), the
    shipped jurisdiction mapping with ``JURISDICTION_PROFILES`` over it, and the site's own
    ``COMPLIANCE_PROFILES`` (a custom resolver may hand any of them out)."""
    from .jurisdiction import DEFAULT_PROFILES

    mapping: dict[str, Any] = {key.upper(): value for key, value in DEFAULT_PROFILES.items()}
    configured = user.get("JURISDICTION_PROFILES") or {}
    if isinstance(configured, dict):
        mapping.update({str(key).upper(): value for key, value in configured.items()})
    names = {str(_value(user, "COMPLIANCE_PROFILE") or "")}
    names.update(str(value) for value in mapping.values() if value is not None)
    extra = user.get("COMPLIANCE_PROFILES") or {}
    if isinstance(extra, dict):
        names.update(str(name) for name in extra)
    return {name for name in names if name and known_profile(name)}


@register(Tags.security, deploy=True)
def check_rate_limit_deployment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W050: the API's throttle counts in a per-process cache; W051: a proxy in front (by
    ``SECURE_PROXY_SSL_HEADER``) but no ``CLIENT_IP``, so every client shares one address."""
    user = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(user, dict):
        return []  # E001
    messages: list[CheckMessage] = []
    throttle = _api_throttle_on(user)
    cache = (getattr(settings, "CACHES", {}) or {}).get("default", {}).get("BACKEND", "")
    if throttle and cache in PER_PROCESS_CACHES:
        messages.append(
            Warning(
                f"The API's write throttle counts in Django's default cache, which is {cache}: "
                "each process keeps its own count, so the limit is multiplied by the number of "
                "processes (or, with DummyCache, never reached).",
                hint="Point CACHES['default'] at a shared cache (django.core.cache.backends.redis."
                "RedisCache, Memcached, or the database cache). See "
                "docs/deployment.md#a-shared-cache.",
                id="graceful_cancel.W050",
            )
        )
    behind_proxy = bool(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))
    if (
        behind_proxy
        and (throttle or _declaration_limit_on(user))
        and _value(user, "CLIENT_IP") is None
    ):
        messages.append(
            Warning(
                "SECURE_PROXY_SSL_HEADER says requests come through a proxy, but "
                f"{SETTINGS_NAME}['CLIENT_IP'] is not set: the declaration page's rate limit "
                "and the API's throttle key on REMOTE_ADDR, the proxy's address, so every "
                "visitor shares one limit (a few requests lock the page for everyone).",
                hint='Set it, e.g. {"proxy_count": 1} for one proxy that adds X-Forwarded-For. '
                "See docs/deployment.md#the-clients-address.",
                id="graceful_cancel.W051",
            )
        )
    return messages


# --- Offer fulfilment (services/fulfilment.py; docs/backends.md, "Offers") ---------------------


@register(Tags.compatibility)
def check_offer_fulfilment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E003/E004: a malformed ``OFFER_FULFILMENT`` route, a hook that cannot be imported."""
    if not isinstance(getattr(settings, SETTINGS_NAME, {}), dict):
        return []  # E001
    from .services.fulfilment import check_routes

    return check_routes()


@register("graceful_cancel")
def check_offer_catalogue(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W010: an active offer nobody applies; W011: one the backend cannot apply as configured.

    Reads the catalogue, so it is not tagged ``database`` (which only ``check --database`` and
    ``migrate`` run) but says nothing while the tables do not exist yet or the database cannot be
    reached (docs/backends.md, "When the catalogue is checked").
    """
    if not isinstance(getattr(settings, SETTINGS_NAME, {}), dict):
        return []  # E001
    from .services.fulfilment import check_catalogue

    return check_catalogue()
