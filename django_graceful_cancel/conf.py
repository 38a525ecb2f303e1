"""Settings for django-graceful-cancel, read from one dict: ``settings.GRACEFUL_CANCEL``.

The dict holds two kinds of keys.

**Core keys** are listed with their defaults and meaning in ``DEFAULTS`` below, and read through
``app_settings``::

    from django_graceful_cancel.conf import app_settings
    app_settings.OFFER_COOLDOWN_DAYS

Keys named in ``IMPORT_STRINGS`` hold dotted paths; reading them returns the imported object,
resolved at call time (never at import time) so ``override_settings`` and late configuration work.

**Component options** belong to one replaceable component (a subscription backend or a channel
backend, shipped or third-party), in the manner of django-anymail's ESP settings. The component
declares them with their defaults, reads them itself and validates them in its own ``check()``;
this module never lists them::

    class AcmeBackend(BaseSubscriptionBackend):  # BaseSubscriptionBackend is a Configurable
        options_docs = "https://acme.example/docs/graceful-cancel/"
        options = {
            "ACME_TOKEN": Option(required=True, help="the API token of your Acme account"),
            "ACME_TIMEOUT": Option(10, valid=positive_int, expected="a positive whole number"),
        }

        def client(self):
            # The constructor's acme_token=..., else GRACEFUL_CANCEL["ACME_TOKEN"], else the
            # default; a required option left unset raises ImproperlyConfigured naming the key.
            return acme.Client(self.get_option("ACME_TOKEN"), self.get_option("ACME_TIMEOUT"))

A key is known to the system checks when it is a core key or an option of the configured backend,
of a configured channel, or of a component shipped with the app (``SHIPPED_COMPONENTS``: so a site
can keep its Stripe keys while it runs on its own model). Misconfiguration is reported by the
system checks in ``checks.py`` and the components' ``check()`` (``graceful_cancel.E0xx``, listed
in docs/configuration.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTINGS_NAME = "GRACEFUL_CANCEL"

#: Where the core keys are documented; the hint of the core checks.
SETTINGS_DOCS = "docs/configuration.md"

DEFAULTS: dict[str, Any] = {
    # --- Subscriptions -------------------------------------------------------------------------
    # Dotted path of the class that talks to the host's subscriptions (see backends/base.py).
    # The backend declares its own keys (backends/model.py, backends/stripe/backend.py).
    "SUBSCRIPTION_BACKEND": "django_graceful_cancel.backends.model.ModelSubscriptionBackend",
    # When the cancellation takes effect by default: "period_end" (end of the paid period) or
    # "immediately".
    "DEFAULT_EFFECTIVE": "period_end",
    # --- Offers --------------------------------------------------------------------------------
    # Dotted path of the offer policy (see policies.py).
    "OFFER_POLICY": "django_graceful_cancel.policies.DefaultOfferPolicy",
    # No second offer to a customer within this many days of accepting one.
    "OFFER_COOLDOWN_DAYS": 365,
    # Who applies an accepted offer the subscription backend does not apply itself, by offer
    # kind: "staff" (a desk task, due in 2 business days), {"route": "staff",
    # "due_business_days": 5}, or the dotted path of a hook called in the accept transaction,
    # hook(case=..., offer=...) -> dict | None, which raises to refuse. An offer with neither the
    # backend nor a route is never shown (check W010). See docs/backends.md, "Offers".
    "OFFER_FULFILMENT": {},
    # --- Returns and win-back (docs/returns.md) -----------------------------------------------
    # Share of the cases eligible for a win-back message (0-50 %) that get none: the holdout the
    # dashboard compares the win-back rate with. Drawn once per case, from its reference.
    "WINBACK_HOLDOUT_PERCENT": 0,
    # Slugs of the catalogue offers a win-back message may carry, in order of preference; the
    # policy (choose_winback_offer) picks the first the rules allow. [] carries none.
    "WINBACK_OFFERS": [],
    # --- Pauses (docs/pause.md) ---------------------------------------------------------------
    # Days before a pause ends that the customer is reminded, with one-click "resume now",
    # "extend" and "cancel" links (on their channel, within the follow-up respect rules).
    "PAUSE_REMINDER_DAYS": 7,
    # At most this many pauses per customer in any 365 days: the offer policy stops offering a
    # pause past it. None for no limit (unlimited pausing becomes a substitute for cancelling).
    "PAUSE_MAX_PER_YEAR": 2,
    # The longest a pause may last, extensions included (days); a pause offer longer than this
    # is never shown and an extension past it is refused. None for no limit.
    "PAUSE_MAX_DAYS": 90,
    # --- Customers who went dark (docs/admin.md) -------------------------------------------------
    # A cancelled case whose customer answered nothing (no survey, no click, no reply) for this
    # many days becomes a desk task to reach them personally, if it is worth it (below). None
    # turns the scan off.
    "WENT_DARK_AFTER_DAYS": 14,
    # The least priority (PRIORITY_RULE) a case needs for that task: the rule scores value,
    # tenure and reason; a site's own rule scores customers outside its ideal profile 0.
    "WENT_DARK_MIN_PRIORITY": 40,
    # --- Cases ---------------------------------------------------------------------------------
    # Dotted path of the callable that scores how worth saving a case is (see priority.py).
    "PRIORITY_RULE": "django_graceful_cancel.priority.default_priority",
    # Open cases untouched for this many hours are marked abandoned by graceful_cancel_abandon.
    "ABANDON_AFTER_HOURS": 48,
    # Attempts at syncing a confirmed cancellation to the subscription backend before the case is
    # flagged for staff (the sync keeps being retried by graceful_cancel_sync; nothing is lost).
    "PROVIDER_SYNC_MAX_ATTEMPTS": 10,
    # --- Compliance: the law of the customer's place (docs/compliance.md) ---------------------
    # The profile of customers whose jurisdiction is unknown or mapped to no profile: "us",
    # "us-mn", "de", "fr", "eu" or one of COMPLIANCE_PROFILES ("default", its old name, is "us").
    "COMPLIANCE_PROFILE": "us",
    # The site's own profiles: name -> a dict of ComplianceRules fields (with "base": the
    # profile it starts from, "us" by default) or the dotted path of a ComplianceRules (E070).
    "COMPLIANCE_PROFILES": {},
    # Dotted path of the callable (or class, instantiated once per call) that finds a customer's
    # jurisdiction: resolver(customer=..., request=..., subscription=...) -> Jurisdiction | None.
    # The default reads the billing country, then JURISDICTION_HEADER, then DEFAULT_JURISDICTION.
    "JURISDICTION_RESOLVER": "django_graceful_cancel.jurisdiction.DefaultJurisdictionResolver",
    # Request header a CDN or proxy sets to the visitor's country (ISO 3166-1 alpha-2), such as
    # "CF-IPCountry"; None reads no header. Values that are not two letters, and the "unknown"
    # codes XX and T1 (Tor), are ignored (E071).
    "JURISDICTION_HEADER": None,
    # Request header with the visitor's region within the country ("MN", or "US-MN"), such as
    # Cloudflare's "CF-Region-Code"; read only together with JURISDICTION_HEADER.
    "JURISDICTION_REGION_HEADER": None,
    # Jurisdiction of customers no billing address or header places: None, a country ("DE") or a
    # country and subdivision ("US-MN") (E071).
    "DEFAULT_JURISDICTION": None,
    # Jurisdiction -> profile, over the shipped mapping {"US-MN": "us-mn", "DE": "de",
    # "FR": "fr", "EU": "eu"}: keys are subdivisions ("US-CA"), countries ("AT"), "EU" (every
    # EU and EEA country without a key of its own) or "*" (everything else; without it,
    # COMPLIANCE_PROFILE). A value of None removes a shipped entry (E071).
    "JURISDICTION_PROFILES": {},
    # --- Customer pages (docs/flow.md, docs/templates.md) -----------------------------------
    # Template the flow's pages extend (e.g. your site's "base.html"); it must render a block
    # named "content" (checks E040, E041), and "title" and "extra_head" are used when it has
    # them (docs/templates.md). The default is a plain stand-alone page.
    "BASE_TEMPLATE": "django_graceful_cancel/standalone.html",
    # Where "Back to my account" links go on the flow's pages: a URL name or a path.
    "ACCOUNT_URL": "/",
    # Region whose national format customers may type phone numbers in (an ISO 3166 code such
    # as "ES": "600 123 456" is then +34 600 123 456); None asks for the international format
    # ("+34 600 123 456"). Numbers are checked with phonenumbers and stored in E.164 either way
    # (services/inputs.py).
    "PHONE_REGION": None,
    # The eu profile's public declaration page: at most this many declarations per client
    # address and per email address within DECLARATION_RATE_WINDOW_MINUTES (0 turns it off).
    "DECLARATION_RATE_LIMIT": 5,
    "DECLARATION_RATE_WINDOW_MINUTES": 60,
    # At most this many acknowledgement emails to one address within
    # DECLARATION_RATE_WINDOW_MINUTES; further declarations to it are recorded without one
    # (0 turns the limit off).
    "DECLARATION_MAIL_LIMIT": 3,
    # Days the account holder's link to confirm an immediate termination stays valid; after
    # that the declaration waits for staff.
    "DECLARATION_CONFIRM_DAYS": 7,
    # The withdrawal function (CRD art. 11a; docs/compliance.md, "Withdrawal function"): days of
    # the statutory withdrawal period by compliance profile ({"de": 14}), counted from the
    # subscription's start; a profile left out keeps its own (14). Longer periods a site grants
    # by contract go here; a shorter one than the law's is never right.
    "WITHDRAWAL_DAYS": {},
    # How the declaration page's rate limit and the API's throttle find the client's address
    # (client_ip.py, docs/deployment.md). None: the address of the connection (REMOTE_ADDR),
    # right when nothing stands between the clients and Django. Behind reverse proxies, a dict:
    # "proxy_count" (how many proxies, each adding the address it received the request from to
    # X-Forwarded-For), optionally "trusted_proxies" (their addresses or networks; the header is
    # believed only from them) and "meta_precedence_order" (the request.META keys of the
    # header, default ["HTTP_X_FORWARDED_FOR"]). Or the dotted path of a callable(request) -> str.
    "CLIENT_IP": None,
    # --- Messages ------------------------------------------------------------------------------
    # From address of customer emails; None uses DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Name of the site in messages; None uses the current Site's name when django.contrib.sites is
    # installed, else "our service".
    "SITE_NAME": None,
    # Register of the message copy, by language: True for the formal one (usted, Sie, vous),
    # False for the informal one (tú, du, tu). Languages left out are informal; English has one.
    # Regional codes fall back to their language ("es-mx" to "es"). See docs/messages.md.
    "FORMAL_REGISTER": {"es": False, "de": True, "fr": True},
    # Who hears what customers say, by reason slug or reason category, and how:
    # {"price": {"to": ["pricing@example.com"], "groups": ["Pricing"], "mode": "digest",
    # "every": "weekly"}}. "mode": "each" (one email per case, after the commit) or "digest"
    # (graceful_cancel_feedback_digest, "every": "daily" or "weekly"). Copy that says who hears
    # the customer's answer is shown only for reasons with a route (docs/messages.md).
    "FEEDBACK_ROUTES": {},
    # What changed since the customer left, for the win-back: None (it names no change), the
    # dotted path of a callable(case) returning a list of items (strings or {"title", "text",
    # "url"} dicts), or a template name ending in .txt or .html rendered with the message context.
    "WHATS_NEW": None,
    # The good-bye package on the confirmation page and in the thank-you: "export" (a signed link
    # to the customer's own data), "export_link_days" (how long it works), "export_extra" (None
    # or the dotted path of a callable(customer) whose dict joins the export as "site"),
    # "keeps_content" (True only if your site keeps the customer's content after the end) and
    # "gift" (None or {"title": str or {language: str}, "url": "https://...", "code": "..."}).
    "GOODBYE": {
        "export": True,
        "export_link_days": 7,
        "export_extra": None,
        "keeps_content": False,
        "gift": None,
    },
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
    # How a follow-up that is due now (the confirmation) leaves after the commit: "auto" is
    # "celery" when the site runs a Celery app with a broker configured and "inline" otherwise;
    # "celery" enqueues the send task on commit (the sweep catches anything the broker lost),
    # "inline" sends it in the same process right after the commit (sites without Celery
    # workers), "sweep" leaves it to the next sweep (graceful_cancel_send_followups or the beat
    # task); or a dispatcher's dotted path (followups/dispatch.py). Checks W043 and I044.
    "FOLLOWUP_DISPATCH": "auto",
    # Channel backends by channel name (dotted paths; see channels/base.py). Channels left out
    # keep their default: email through Django's mail API, SMS and WhatsApp on the console,
    # phone as a call task for staff.
    "FOLLOWUP_CHANNELS": {},
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
    # "http://localhost:8000" (check W042 warns when it is None while DEBUG is off).
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
    # Days a case's evidence record (docs/compliance.md, "Evidence record") is kept after the
    # case closed, even when the purge deletes the case: 3 years by default (Cal. Bus. & Prof.
    # Code § 17602 as amended by AB 2863). Erasure on request removes it earlier.
    "EVIDENCE_RETENTION_DAYS": 1095,
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
    # --- Outbound webhooks and staff alerts (issue 18; docs/webhooks.md, docs/alerts.md) ------
    # Webhook endpoints are rows staff configure in the admin; every event and alert is an
    # outbox row written in the transaction of the change and sent after it
    # (django_graceful_cancel/webhooks/, django_graceful_cancel/alerts/).
    # How deliveries leave after the commit: "auto" (Celery when the site has a Celery app with a
    # broker, else the sweep), "celery", "sweep" (graceful_cancel_send_webhooks or the beat
    # task), "inline" (one attempt in the request's process right after the commit, bounded by
    # WEBHOOK_INLINE_TIMEOUT_SECONDS: the response waits for it), or a dispatcher's dotted path.
    "WEBHOOK_DISPATCH": "auto",
    # Personal data a webhook payload may carry: "none" (the case reference, status, reason slug,
    # plan, price and dates), "contact" (and the customer's id, email, name and phone, and the
    # subscription), "all" (and free text: the reason in the customer's words, survey comment,
    # declaration details, staff names).
    "WEBHOOK_PERSONAL_DATA": "none",
    # Seconds a worker waits for an endpoint (or Slack) to connect, and again to answer.
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    # The same for the "inline" dispatcher, which runs in the customer's request.
    "WEBHOOK_INLINE_TIMEOUT_SECONDS": 2,
    # Attempts before a delivery is marked failed (it can then be sent again from the admin).
    "WEBHOOK_MAX_ATTEMPTS": 10,
    # Wait after the first failed attempt, doubled after each further one (at most 6 hours).
    "WEBHOOK_RETRY_BACKOFF_SECONDS": 60,
    # Rows the sweep claims per batch, and batches per sweep run.
    "WEBHOOK_BATCH_SIZE": 100,
    "WEBHOOK_SWEEP_MAX_BATCHES": 50,
    # A row left "sending" this long (its worker died) goes back to the queue, same event id.
    "WEBHOOK_SENDING_TIMEOUT_MINUTES": 10,
    # Staff alert rules: rule name -> the channels it sends to, or a dict with "channels" and
    # the rule's options. Rules: "high_value_cancellation" ({"min_monthly_value": 100}),
    # "call_requested", "declaration_disputed", "provider_sync_attention". {} sends no alert.
    "ALERT_RULES": {},
    # Alert channels by name (dotted paths of alerts.channels.BaseAlertChannel subclasses);
    # names left out keep the built-ins "slack" and "owner_email".
    "ALERT_CHANNELS": {},
    # --- The private classifier (issue 20; docs/insights.md) --------------------------------
    # Dotted path of the classifier that suggests a reason and a root cause from the customer's
    # words: "django_graceful_cancel.insights.text_model.TextClassifier" (needs the [insights]
    # extra, runs in the site's own process), a site's own BaseClassifier subclass, or None
    # (off: no suggestions).
    "INSIGHTS_CLASSIFIER": None,
    # Suggestions below this confidence (0-1) are not shown to staff.
    "INSIGHTS_MIN_CONFIDENCE": 0.3,
    # The newest cases with free text a training run reads (bounds its time and memory).
    "INSIGHTS_MAX_TRAINING_CASES": 50000,
}

# Keys whose values are dotted paths, imported when read.
IMPORT_STRINGS: frozenset[str] = frozenset(
    {
        "SUBSCRIPTION_BACKEND",
        "OFFER_POLICY",
        "PRIORITY_RULE",
        "JURISDICTION_RESOLVER",
        "INSIGHTS_CLASSIFIER",
    }
)


# --- Value tests, for the core checks and the components' options -------------------------------


def positive_int(value: Any) -> bool:
    """A whole number above 0 (``True`` is not a number here)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def non_negative_int(value: Any) -> bool:
    """A whole number, 0 or more."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def optional_str(value: Any) -> bool:
    """None or a string."""
    return value is None or isinstance(value, str)


def optional_http_url(value: Any) -> bool:
    """None or an absolute http(s) address."""
    return value is None or (isinstance(value, str) and value.startswith(("http://", "https://")))


def is_unset(value: Any) -> bool:
    """Whether an option's value counts as not given (None or an empty string)."""
    return value is None or value == ""


# --- Component options --------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One ``GRACEFUL_CANCEL`` key a component declares: its default, meaning and accepted values."""

    #: The value when neither the component's constructor nor ``GRACEFUL_CANCEL`` gives one.
    default: Any = None
    #: What the key holds, in a few words (used in the "must be set" messages).
    help: str = ""
    #: True for an acceptable value; None accepts any. A bad value is check ``E003``.
    valid: Callable[[Any], bool] | None = None
    #: What an acceptable value is, for the ``E003`` message ("a positive whole number").
    expected: str = ""
    #: The component cannot work without it: reading it unset raises ``ImproperlyConfigured``,
    #: and the component's check reports it (``E007``) when the component is configured.
    required: bool = False


def declared_options(component: Any) -> dict[str, Option]:
    """The options a component (a class or an instance) declares, each as an ``Option``.

    ``options`` maps each key to an ``Option`` or, for short, to its default value. Any class with
    such a mapping is a component; subclass ``Configurable`` for ``get_option()`` and ``check()``.
    """
    cls = component if isinstance(component, type) else type(component)
    declared = getattr(cls, "options", None)
    if not isinstance(declared, Mapping):
        return {}
    return {
        str(key): value if isinstance(value, Option) else Option(default=value)
        for key, value in declared.items()
    }


def get_component_setting(
    name: str,
    *,
    component: Any,
    kwargs: Mapping[str, Any] | None = None,
    allow_missing: bool = False,
) -> Any:
    """The value of the option ``name`` of ``component``, like anymail's ``get_anymail_setting``.

    Looked up, in order: ``kwargs`` (the component's constructor arguments, by the key in lower
    case: ``acme_token``), ``GRACEFUL_CANCEL[name]``, the declared default. A required option that
    is still unset raises ``ImproperlyConfigured`` naming the key, unless ``allow_missing``.
    """
    cls = component if isinstance(component, type) else type(component)
    option = declared_options(cls).get(name)
    if option is None:
        raise AttributeError(f"{cls.__qualname__} declares no {SETTINGS_NAME} option {name!r}.")
    if kwargs is not None and name.lower() in kwargs:
        value = kwargs[name.lower()]
    else:
        value = app_settings.user_settings.get(name, option.default)
    if option.required and not allow_missing and is_unset(value):
        raise ImproperlyConfigured(missing_option_message(name, cls, option))
    return value


def missing_option_message(name: str, component: type, option: Option) -> str:
    what = f" ({option.help})" if option.help else ""
    return f"{SETTINGS_NAME}[{name!r}]{what} must be set to use {component.__qualname__}."


def check_options(component: Any, *, required: bool = True) -> list[CheckMessage]:
    """The checks every component gets: ``E003`` for a key set to a value its ``Option`` does not
    accept and, with ``required``, ``E007`` for a required key left unset."""
    cls = component if isinstance(component, type) else type(component)
    hint = f"See {getattr(cls, 'options_docs', '') or SETTINGS_DOCS}."
    user = app_settings.user_settings
    messages: list[CheckMessage] = []
    for name, option in declared_options(cls).items():
        if name in user and option.valid is not None and not option.valid(user[name]):
            expected = option.expected or "another value"
            messages.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] is {user[name]!r}; expected {expected}.",
                    hint=hint,
                    id="graceful_cancel.E003",
                )
            )
        elif (
            required
            and option.required
            and is_unset(get_component_setting(name, component=cls, allow_missing=True))
        ):
            messages.append(
                Error(
                    missing_option_message(name, cls, option), hint=hint, id="graceful_cancel.E007"
                )
            )
    return messages


class Configurable:
    """Base of the components that own ``GRACEFUL_CANCEL`` keys: subscription backends, channels.

    Declare ``options``; read them with ``self.get_option(name)`` (or the class's
    ``get_setting(name)`` where there is no instance); extend ``check()`` for what a value-by-value
    test cannot see (a model that must exist, two keys that need each other), keeping
    ``super().check(**kwargs)``. The system checks call ``check()`` on the configured backend and
    on each configured channel.
    """

    #: Key -> ``Option`` (or, for short, its default). Keys share ``GRACEFUL_CANCEL`` with the core
    #: and every other component: prefix them with the component's name ("STRIPE_", "ACME_").
    options: ClassVar[Mapping[str, Any]] = {}
    #: Where the options are documented (a docs page or a URL); the checks' hints point there.
    options_docs: ClassVar[str] = ""

    def __init__(self, **kwargs: Any) -> None:
        declared = declared_options(self)
        unknown = sorted(k for k in kwargs if k != k.lower() or k.upper() not in declared)
        if unknown:
            accepted = ", ".join(sorted(n.lower() for n in declared)) or "none"
            raise TypeError(
                f"{type(self).__qualname__}() got unknown options {unknown}; it takes: {accepted}."
            )
        #: Constructor arguments, which win over ``GRACEFUL_CANCEL`` (keys in lower case).
        self.option_kwargs: dict[str, Any] = dict(kwargs)

    def get_option(self, name: str) -> Any:
        """Option ``name``: the constructor's argument, else ``GRACEFUL_CANCEL``, else the default."""
        return get_component_setting(
            name, component=self, kwargs=getattr(self, "option_kwargs", None)
        )

    @classmethod
    def get_setting(cls, name: str) -> Any:
        """Option ``name`` without an instance: ``GRACEFUL_CANCEL``, else the default."""
        return get_component_setting(name, component=cls)

    @classmethod
    def check(cls, **kwargs: Any) -> list[CheckMessage]:
        """System check messages about this component's configuration (see ``check_options``)."""
        return check_options(cls)


#: Components shipped with the app, by dotted path. Their keys are known to the checks (and their
#: values checked) even when they are not configured, so a site can keep the Stripe keys while it
#: runs on its own model. One whose optional dependency is missing is skipped.
SHIPPED_COMPONENTS: tuple[str, ...] = (
    "django_graceful_cancel.backends.model.ModelSubscriptionBackend",
    "django_graceful_cancel.backends.stripe.StripeSubscriptionBackend",
    "django_graceful_cancel.followups.channels.twilio.TwilioSMSChannel",
    # The Slack staff alert channel (issue 18, docs/alerts.md).
    "django_graceful_cancel.alerts.channels.SlackAlertChannel",
)


def shipped_components() -> list[type]:
    """The classes of ``SHIPPED_COMPONENTS`` that can be imported."""
    found = []
    for path in SHIPPED_COMPONENTS:
        try:
            found.append(import_string(path))
        except ImportError:  # e.g. the Stripe backend without the stripe package
            continue
    return found


# --- Reading the core settings ----------------------------------------------------------------


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
            return self.shipped_component_option(attr)
        value = self.user_settings.get(attr, self.defaults[attr])
        # Import strings are not cached on the instance: resolving them at call time keeps
        # replaceable classes replaceable (a test or a late setting change takes effect).
        if attr in IMPORT_STRINGS and isinstance(value, str):
            return import_string(value)
        self._cached.add(attr)
        setattr(self, attr, value)
        return value

    def shipped_component_option(self, attr: str) -> Any:
        """Deprecated: an option of a shipped component (``STRIPE_API_KEY``...) read as an
        attribute, as it could be before components owned their options. Removed in 0.3."""
        if attr.isupper():
            for component in shipped_components():
                if attr in declared_options(component):
                    name = component.__qualname__
                    warnings.warn(
                        f"app_settings.{attr} is deprecated: {attr} is an option of {name}; read "
                        f"it with {name}.get_setting({attr!r}). It will be removed in 0.3.",
                        DeprecationWarning,
                        stacklevel=3,
                    )
                    return get_component_setting(attr, component=component)
        raise AttributeError(f"Invalid {SETTINGS_NAME} setting: {attr!r}")

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
