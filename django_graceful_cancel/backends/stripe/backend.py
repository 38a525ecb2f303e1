"""A subscription backend on Stripe, through the official ``stripe`` package (``pip install
django-graceful-cancel[stripe]``).

Configure it with::

    GRACEFUL_CANCEL = {
        "SUBSCRIPTION_BACKEND": "django_graceful_cancel.backends.stripe.StripeSubscriptionBackend",
        "STRIPE_API_KEY": "sk_live_...",
        # how to go from a Django user to a Stripe customer id (see customer_id_for below)
        "STRIPE_CUSTOMER_LOOKUP": "profile__stripe_customer_id",
        # plan codes that downgrade offers name, and the Stripe price (or legacy plan) of each
        "STRIPE_PRICES": {"basic": "price_1Q...", "standard": "price_1R..."},
    }

The backend's keys (``STRIPE_*``) are declared in ``StripeSubscriptionBackend.options`` and
checked by its ``check()`` (``graceful_cancel.E006``); docs/stripe.md documents each one. The
webhook that keeps cases in step with changes made at Stripe is next door, in ``webhooks.py``.

Every request is built with the SDK's typed parameter classes (``stripe.params``), so mypy
checks each parameter name and type against the SDK's own definitions. Stripe errors become
``BackendError`` with ``transient`` set by kind (see ``STRIPE_ERRORS``). docs/stripe.md says
which operations are verified against a stateful Stripe server (localstripe) and which by the
exact requests the SDK sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

import stripe
from django.apps import apps
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import DatabaseError
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ...choices import OfferKind
from ...conf import (
    SETTINGS_NAME,
    Option,
    non_negative_int,
    optional_http_url,
    optional_str,
    positive_int,
)
from ...exceptions import BackendError
from ...intervals import format_interval
from ..base import (
    ACTIVE_STATUSES,
    BaseSubscriptionBackend,
    ResubscribeQuote,
    ResubscribeResult,
    SubscriptionInfo,
)

if TYPE_CHECKING:
    from stripe.params import (
        CouponCreateParams,
        CustomerCreateBalanceTransactionParams,
        SubscriptionCancelParams,
        SubscriptionCancelParamsCancellationDetails,
        SubscriptionCreateParams,
        SubscriptionCreateParamsItem,
        SubscriptionListParams,
        SubscriptionPauseParams,
        SubscriptionResumeParams,
        SubscriptionUpdateParams,
        SubscriptionUpdateParamsItem,
    )
    from stripe.params.checkout import SessionCreateParams

    from ...models import CancellationCase, RetentionOffer

# Currencies Stripe counts in whole units (no cents): amounts are not divided by 100.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
    | {"xaf", "xof", "xpf"}
)

#: Stripe error class -> (code, whether a retry may succeed). Order matters: the first match wins.
STRIPE_ERRORS: list[tuple[type[stripe.StripeError], str, bool]] = [
    (stripe.CardError, "stripe_card_error", False),
    (stripe.RateLimitError, "stripe_rate_limited", True),
    (stripe.APIConnectionError, "stripe_unreachable", True),
    (stripe.AuthenticationError, "stripe_authentication", False),
    (stripe.PermissionError, "stripe_permission", False),
    (stripe.IdempotencyError, "stripe_idempotency", False),
    (stripe.InvalidRequestError, "stripe_invalid_request", False),
    (stripe.APIError, "stripe_api_error", True),
    (stripe.StripeError, "stripe_error", True),
]


def backend_error_from(exc: stripe.StripeError) -> BackendError:
    """The ``BackendError`` for a Stripe error, with a stable code and ``transient`` set."""
    code, transient = next(
        ((code, transient) for cls, code, transient in STRIPE_ERRORS if isinstance(exc, cls)),
        ("stripe_error", True),
    )
    if isinstance(exc, stripe.InvalidRequestError) and exc.code == "resource_missing":
        code = "stripe_not_found"
    # A 5xx answer to any request (also mapped to other classes by the SDK) may succeed later.
    if (exc.http_status or 0) >= 500:
        transient = True
    detail = exc.user_message or str(exc)
    error = BackendError(
        _("Stripe could not complete the request: %(detail)s") % {"detail": detail},
        code=code,
        transient=transient,
    )
    error.__cause__ = exc
    return error


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Turn any Stripe error raised inside the block into a ``BackendError``."""
    try:
        yield
    except stripe.StripeError as exc:
        raise backend_error_from(exc) from exc


def _timestamp(value: Any) -> dt.datetime | None:
    if value in (None, "", 0):
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def _count(value: Any) -> int:
    """A price's ``interval_count`` (1 when missing or unreadable)."""
    try:
        return max(int(value or 1), 1)
    except (TypeError, ValueError):
        return 1


def _epoch(value: dt.datetime) -> int:
    return int(value.timestamp())


#: ``customer_id_for``'s ``lookup`` when none is given: read ``STRIPE_CUSTOMER_LOOKUP``.
FROM_SETTINGS: Any = object()


def customer_id_for(user: Any, *, lookup: Any = FROM_SETTINGS) -> str | None:
    """The Stripe customer id of a Django user, by ``lookup`` (by default
    ``GRACEFUL_CANCEL["STRIPE_CUSTOMER_LOOKUP"]``):

    * a dotted path (it contains a "."): a callable ``f(user) -> str | None``;
    * otherwise a field path on the user, "__" separated (``"stripe_customer_id"``,
      ``"profile__stripe_customer_id"``); a missing related object means no customer;
    * ``None`` (the default): dj-stripe's ``Customer`` whose ``subscriber`` is the user, when
      dj-stripe is installed; without dj-stripe there is no lookup and the check E006 says so.
    """
    if lookup is FROM_SETTINGS:
        lookup = StripeSubscriptionBackend.get_setting("STRIPE_CUSTOMER_LOOKUP")
    if callable(lookup):
        return _as_customer_id(lookup(user))
    if isinstance(lookup, str) and "." in lookup:
        func: Callable[[Any], Any] = import_string(lookup)
        return _as_customer_id(func(user))
    if isinstance(lookup, str) and lookup:
        value: Any = user
        for part in lookup.split("__"):
            try:
                value = getattr(value, part)
            except AttributeError:
                # Includes RelatedObjectDoesNotExist: a user without a profile has no customer.
                return None
            if value is None:
                return None
        return _as_customer_id(value)
    return djstripe_customer_id(user)


def _as_customer_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    # A dj-stripe Customer, a Stripe Customer object or a plain id all work.
    return str(getattr(value, "id", value))


def djstripe_customer_id(user: Any) -> str | None:
    """dj-stripe's customer for the user (dj-stripe 2.x: ``Customer.subscriber``, checked
    against dj-stripe 2.11's models).

    Written defensively because dj-stripe is optional and its models changed across versions:
    any lookup error means "no customer" rather than a crash in the customer's flow.
    """
    try:
        from djstripe.models import Customer
    except ImportError as exc:
        raise ImproperlyConfigured(
            'GRACEFUL_CANCEL["STRIPE_CUSTOMER_LOOKUP"] is not set and dj-stripe is not '
            "installed: name a user field or a callable that gives the Stripe customer id."
        ) from exc
    if getattr(user, "pk", None) is None:
        return None
    try:
        qs = Customer.objects.filter(subscriber=user)
        fields = {f.name for f in Customer._meta.get_fields()}
        if "date_purged" in fields:  # dj-stripe 2.x marks deleted customers purged
            qs = qs.filter(date_purged__isnull=True)
        customer = qs.order_by("-created").first()
    except (FieldError, DatabaseError, LookupError):  # another dj-stripe schema
        return None
    return str(customer.id) if customer is not None else None


def djstripe_secret_key() -> str | None:
    """dj-stripe's secret key (its ``STRIPE_SECRET_KEY`` / live-or-test key), when installed."""
    try:
        from djstripe.settings import djstripe_settings
    except ImportError:
        return None
    try:
        return str(djstripe_settings.STRIPE_SECRET_KEY or "") or None
    except AttributeError:
        return None


#: Stripe's cancellation feedback codes (``cancellation_details.feedback``).
FEEDBACK_CODES = frozenset(
    {
        "customer_service",
        "low_quality",
        "missing_features",
        "other",
        "switched_service",
        "too_complex",
        "too_expensive",
        "unused",
    }
)

#: The longest ``cancellation_details.comment`` Stripe accepts.
COMMENT_MAX_LENGTH = 500

#: ``STRIPE_FEEDBACK_CODES`` by default: each shipped reason's slug -> Stripe's feedback code.
#: Read back (a portal cancellation's feedback -> a reason), the first slug listed for a code
#: wins; a code no slug maps to is "other".
DEFAULT_FEEDBACK_CODES: dict[str, str] = {
    "price": "too_expensive",
    "quality": "low_quality",
    "customer-service": "customer_service",
    "missing-features": "missing_features",
    "competitor": "switched_service",
    "no-longer-needed": "unused",
    "technical-problems": "too_complex",
    "poor-communication": "customer_service",
    "unmet-expectations": "low_quality",
    "temporary": "unused",
    "business-closed": "unused",
    "other": "other",
}


def _feedback_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(slug, str) and code in FEEDBACK_CODES for slug, code in value.items()
    )


def feedback_for(reason_slug: str | None, *, mapping: dict[str, str] | None = None) -> str | None:
    """Stripe's feedback code for a catalogue reason (by ``STRIPE_FEEDBACK_CODES``): None for no
    reason, "other" for a reason the mapping does not name."""
    if not reason_slug:
        return None
    if mapping is None:
        mapping = StripeSubscriptionBackend.get_setting("STRIPE_FEEDBACK_CODES")
    return str((mapping or {}).get(reason_slug) or "other")


def reason_for_feedback(code: str | None, *, mapping: dict[str, str] | None = None) -> str | None:
    """The catalogue reason's slug for Stripe's feedback code (the reverse of
    ``STRIPE_FEEDBACK_CODES``, the first slug listed for the code): None for no feedback,
    "other" for a code no slug maps to."""
    if not code:
        return None
    if mapping is None:
        mapping = StripeSubscriptionBackend.get_setting("STRIPE_FEEDBACK_CODES")
    return next((slug for slug, c in (mapping or {}).items() if c == code), "other")


def _prorations(value: Any) -> bool:
    return value in (None, "create_prorations", "none", "always_invoice")


def _price_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(p, str) for p in value.values())


_PRORATIONS = 'None, "create_prorations", "none" or "always_invoice"'


#: The first API version (as the SDK pins it) with native pause: ``STRIPE_PAUSE_MODE = "auto"``
#: pauses natively from it on (the SDK release that added ``subscriptions.pause`` pins it).
NATIVE_PAUSE_SINCE = "2026-10-28"

#: Stripe's status of a natively paused subscription: still the customer's, so it can be
#: cancelled (the flow starts on it like on an active one).
PAUSED_STATUS = "paused"


class StripeSubscriptionBackend(BaseSubscriptionBackend):
    """Reads and changes Stripe subscriptions; the subscription id ("sub_...") is the reference."""

    supports_period_end_cancel = True
    supports_pause_lifecycle = True
    #: A former customer comes back on a new subscription (or a Checkout Session without a saved
    #: payment method); a win-back discount rides on it as a coupon (docs/returns.md).
    supports_resubscribe = True
    resubscribe_offers = frozenset({OfferKind.DISCOUNT})
    #: Applied at Stripe by ``apply_offer`` (``can_apply`` also needs what each one names: a
    #: configured price for downgrades and free features, a coupon or an amount for discounts).
    #: Consultations are never applied here: they need a fulfilment route (docs/backends.md).
    applies_offers = frozenset(
        {
            OfferKind.DISCOUNT,
            OfferKind.PAUSE,
            OfferKind.DOWNGRADE,
            OfferKind.EXTENSION,
            OfferKind.FREE_FEATURE,
        }
    )

    options_docs = "docs/stripe.md"
    options = {
        # Secret key of the Stripe account ("sk_live_..." / "sk_test_..."); required unless
        # dj-stripe is installed, whose key is then used (check E006).
        "STRIPE_API_KEY": Option(
            None,
            help="the secret key of the Stripe account",
            valid=optional_str,
            expected="None or a Stripe secret key",
        ),
        # Base address of the Stripe API; None is Stripe's own. Set it to a local server such as
        # localstripe ("http://127.0.0.1:8420") for the demo and the tests.
        "STRIPE_API_BASE": Option(
            None,
            valid=optional_http_url,
            expected='None or an address such as "http://127.0.0.1:8420"',
        ),
        # Network retries of the Stripe SDK per request (connection errors, 409, 429, 5xx).
        "STRIPE_MAX_NETWORK_RETRIES": Option(
            2, valid=non_negative_int, expected="a whole number, 0 or more"
        ),
        # Signing secret of the webhook endpoint ("whsec_...", webhooks.py); None refuses every
        # webhook.
        "STRIPE_WEBHOOK_SECRET": Option(
            None, valid=optional_str, expected='None or the endpoint\'s "whsec_..." secret'
        ),
        # Seconds a webhook's signed timestamp stays acceptable (replay protection).
        "STRIPE_WEBHOOK_TOLERANCE": Option(
            300, valid=positive_int, expected="a positive whole number of seconds"
        ),
        # From a Django user to their Stripe customer id: a field path on the user
        # ("profile__stripe_customer_id"), a dotted path to a callable f(user) -> id or None, or
        # None to use dj-stripe's Customer (its "subscriber") when dj-stripe is installed.
        "STRIPE_CUSTOMER_LOOKUP": Option(
            None,
            valid=lambda v: v is None or callable(v) or (isinstance(v, str) and bool(v)),
            expected="None (dj-stripe), a user field path or a dotted path to a callable",
        ),
        # Plan codes (what downgrade offers' "plan" parameter names) -> Stripe price ids
        # ("price_...") or legacy plan ids; also turns a subscription's price back into its code.
        "STRIPE_PRICES": Option(
            {}, valid=_price_map, expected="a dict of plan code -> Stripe price id"
        ),
        # Free-feature offers: feature name -> Stripe price id of the add-on given free for the
        # offer's "months".
        "STRIPE_FEATURE_PRICES": Option(
            {}, valid=_price_map, expected="a dict of feature -> Stripe price id"
        ),
        # Proration when a downgrade changes the price: None (the account's default, which is
        # "create_prorations"), "create_prorations", "none" or "always_invoice".
        "STRIPE_PRORATION_BEHAVIOR": Option(None, valid=_prorations, expected=_PRORATIONS),
        # What Stripe does with invoices while a pause offer runs.
        "STRIPE_PAUSE_BEHAVIOR": Option(
            "void",
            valid=lambda v: v in ("void", "keep_as_draft", "mark_uncollectible"),
            expected='"void", "keep_as_draft" or "mark_uncollectible"',
        ),
        # How a pause offer pauses at Stripe (docs/stripe.md, "Pauses"): "pause_collection" (the
        # subscription stays active, its invoices are voided by STRIPE_PAUSE_BEHAVIOR until
        # resumes_at, and Stripe resumes it by itself), "native" (POST /v1/subscriptions/{id}/pause:
        # status "paused", no invoices, no new periods; the pause sweep resumes it on its date) or
        # "auto" (native when the API version the SDK pins has it, NATIVE_PAUSE_SINCE).
        "STRIPE_PAUSE_MODE": Option(
            "pause_collection",
            valid=lambda v: v in ("pause_collection", "native", "auto"),
            expected='"pause_collection", "native" or "auto"',
        ),
        # A native pause's resume: "resume_on_payment_attempt" (Stripe's default: active once it
        # tries to charge) or "resume_on_payment_success" (active only once the charge succeeds).
        "STRIPE_RESUME_PAYMENT_BEHAVIOR": Option(
            "resume_on_payment_attempt",
            valid=lambda v: v in ("resume_on_payment_attempt", "resume_on_payment_success"),
            expected='"resume_on_payment_attempt" or "resume_on_payment_success"',
        ),
        # Proration sent with an extension offer's new trial end: "none" (the free days are the
        # whole gift; Stripe's default would also credit the unused part of the period), None
        # (send nothing: the account's default; localstripe needs this) or "create_prorations".
        "STRIPE_EXTENSION_PRORATION_BEHAVIOR": Option(
            "none", valid=_prorations, expected=_PRORATIONS
        ),
        # Whether an immediate cancellation credits the unused part of the period.
        "STRIPE_PRORATE_ON_CANCEL": Option(
            False, valid=lambda v: isinstance(v, bool), expected="True or False"
        ),
        # Catalogue reason slug -> Stripe cancellation feedback code ("customer_service",
        # "low_quality", "missing_features", "other", "switched_service", "too_complex",
        # "too_expensive", "unused"). Written to Stripe on cancel (a reason not listed is
        # "other") and read back from portal cancellations (the first slug listed for a code;
        # a code not listed is "other").
        "STRIPE_FEEDBACK_CODES": Option(
            DEFAULT_FEEDBACK_CODES,
            valid=_feedback_map,
            expected="a dict of reason slug -> Stripe feedback code",
        ),
        # Whether cancelling sends the reason and the customer's words to Stripe
        # (cancellation_details); False for a server that rejects the parameter (localstripe).
        "STRIPE_SEND_CANCELLATION_DETAILS": Option(
            True, valid=lambda v: isinstance(v, bool), expected="True or False"
        ),
        # Subscription statuses that count as active (shared with the model backend).
        "SUBSCRIPTION_ACTIVE_STATUSES": ACTIVE_STATUSES,
    }

    @classmethod
    def check(cls, **kwargs: Any) -> list[CheckMessage]:
        """E006: without dj-stripe, a key to call Stripe with and a way to find the customer."""
        errors = super().check(**kwargs)
        if apps.is_installed("djstripe"):
            return errors
        if not cls.get_setting("STRIPE_API_KEY"):
            errors.append(
                Error(
                    f'{SETTINGS_NAME}["STRIPE_API_KEY"] must be set when the Stripe backend is '
                    "used.",
                    hint="Read the secret key from the environment. See docs/stripe.md.",
                    id="graceful_cancel.E006",
                )
            )
        if cls.get_setting("STRIPE_CUSTOMER_LOOKUP") is None:
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

    #: An ``stripe.HTTPClient`` for every request (tests set a recording client here); None
    #: uses the SDK's default.
    http_client: stripe.HTTPClient | None = None

    @cached_property
    def client(self) -> stripe.StripeClient:
        key = self.get_option("STRIPE_API_KEY") or djstripe_secret_key()
        if not key:
            raise ImproperlyConfigured(
                'GRACEFUL_CANCEL["STRIPE_API_KEY"] must be set to use the Stripe backend.'
            )
        base = self.get_option("STRIPE_API_BASE")
        return stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else None,
            max_network_retries=self.get_option("STRIPE_MAX_NETWORK_RETRIES"),
            http_client=self.http_client,
        )

    # --- reading -----------------------------------------------------------------------------

    def get_active_subscription(self, customer: Any) -> SubscriptionInfo | None:
        customer_id = customer_id_for(customer, lookup=self.get_option("STRIPE_CUSTOMER_LOOKUP"))
        if not customer_id:
            return None
        # The customer comes along (one request, not two): its address places the customer for
        # the law (jurisdiction.py), and its tax location where the address is missing.
        params: SubscriptionListParams = {
            "customer": customer_id,
            "limit": 20,
            "expand": ["data.customer"],
        }
        with stripe_errors():
            subscriptions = self.client.v1.subscriptions.list(params)
        statuses = [*self.get_option("SUBSCRIPTION_ACTIVE_STATUSES"), PAUSED_STATUS]
        active = [sub.to_dict() for sub in subscriptions.data if sub.status in statuses]
        if not active:
            return None
        # Several live subscriptions are rare; the newest is the one the customer thinks of.
        newest = max(active, key=lambda s: s.get("created") or s.get("start_date") or 0)
        return self.describe(newest)

    def get_subscription(self, reference: str) -> SubscriptionInfo | None:
        with stripe_errors():
            try:
                sub = self.client.v1.subscriptions.retrieve(reference)
            except stripe.InvalidRequestError as exc:
                if exc.code == "resource_missing" or exc.http_status == 404:
                    return None
                raise
        return self.describe(sub.to_dict())

    def describe(self, sub: dict[str, Any]) -> SubscriptionInfo:
        """A ``SubscriptionInfo`` from a subscription as a plain dict (``to_dict()``)."""
        item = self._main_item(sub)
        price = item.get("price") or item.get("plan") or sub.get("plan") or {}
        recurring = price.get("recurring") or {}
        price_id = str(price.get("id") or "")
        currency = str(price.get("currency") or sub.get("currency") or "")
        amount = price.get("unit_amount", price.get("amount"))
        # Since API version 2025-03-31 the billing period lives on the items; localstripe and
        # older accounts still put it on the subscription.
        period_end = item.get("current_period_end") or sub.get("current_period_end")
        code = self._plan_code(price_id, price.get("lookup_key"))
        cancel_at = sub.get("cancel_at")
        customer = sub.get("customer")
        country, region = self.billing_place(customer if isinstance(customer, dict) else {})
        return SubscriptionInfo(
            reference=str(sub["id"]),
            plan=str(price.get("nickname") or code),
            plan_code=code,
            price=self._amount(amount, currency) if amount is not None else None,
            currency=currency.upper(),
            # "3 month" for a quarterly price (interval_count 3): the figures read it as three
            # months (intervals.py), the pages as "every 3 months".
            interval=format_interval(
                str(recurring.get("interval") or price.get("interval") or ""),
                _count(recurring.get("interval_count") or price.get("interval_count")),
            ),
            started_at=_timestamp(sub.get("start_date") or sub.get("created")),
            current_period_end=_timestamp(cancel_at or period_end),
            is_active=sub.get("status")
            in [*self.get_option("SUBSCRIPTION_ACTIVE_STATUSES"), PAUSED_STATUS],
            cancel_at_period_end=bool(sub.get("cancel_at_period_end") or cancel_at),
            country=country,
            region=region,
            extra={
                "customer": customer.get("id") if isinstance(customer, dict) else customer,
                "status": sub.get("status"),
                "price_id": price_id,
                "item_id": item.get("id"),
                "pause_collection": sub.get("pause_collection"),
                "trial_end": sub.get("trial_end"),
            },
        )

    @staticmethod
    def billing_place(customer: dict[str, Any]) -> tuple[str, str]:
        """(country, region) of an expanded Stripe customer: its address, else its tax location
        (``customer.tax.location``, present where the customer object carries it, e.g. in a
        webhook's or an expanded object); ("", "") when neither."""
        address = customer.get("address") or {}
        if address.get("country"):
            return str(address["country"]), str(address.get("state") or "")
        location = (customer.get("tax") or {}).get("location") or {}
        if location.get("country"):
            return str(location["country"]), str(location.get("state") or "")
        return "", ""

    @staticmethod
    def _main_item(sub: dict[str, Any]) -> dict[str, Any]:
        items = (sub.get("items") or {}).get("data") or []
        if not items:
            return {}
        # The base plan is the item not added as a free feature by this backend.
        for item in items:
            if not (item.get("metadata") or {}).get("graceful_cancel_feature"):
                return dict(item)
        return dict(items[0])

    @staticmethod
    def _amount(amount: Any, currency: str) -> Decimal:
        value = Decimal(str(amount))
        if currency.lower() in ZERO_DECIMAL_CURRENCIES:
            return value
        return value / 100

    def _plan_code(self, price_id: str, lookup_key: Any) -> str:
        for code, configured in (self.get_option("STRIPE_PRICES") or {}).items():
            if configured == price_id:
                return str(code)
        return str(lookup_key or price_id)

    # --- writing -----------------------------------------------------------------------------

    def _update(self, reference: str, params: SubscriptionUpdateParams) -> dict[str, Any]:
        with stripe_errors():
            return self.client.v1.subscriptions.update(reference, params).to_dict()

    def cancellation_details(
        self, case: CancellationCase
    ) -> SubscriptionCancelParamsCancellationDetails:
        """The case's reason (as Stripe's feedback code, by ``STRIPE_FEEDBACK_CODES``) and the
        customer's words (trimmed to Stripe's 500 characters); empty parts are left out."""
        details: SubscriptionCancelParamsCancellationDetails = {}
        if not self.get_option("STRIPE_SEND_CANCELLATION_DETAILS"):
            return details
        reason = case.reason.slug if case.reason_id and case.reason else None
        feedback = feedback_for(reason, mapping=self.get_option("STRIPE_FEEDBACK_CODES"))
        if feedback:
            details["feedback"] = feedback
        comment = (case.reason_detail or "").strip()[:COMMENT_MAX_LENGTH].strip()
        if comment:
            details["comment"] = comment
        return details

    def cancel(self, reference: str, *, at_period_end: bool, case: CancellationCase) -> None:
        details = self.cancellation_details(case)
        if at_period_end:
            params: SubscriptionUpdateParams = {
                "cancel_at_period_end": True,
                "metadata": {"graceful_cancel_case": case.reference},
            }
            if details:
                params["cancellation_details"] = details
            self._update(reference, params)
            return
        cancel_params: SubscriptionCancelParams = {}
        if self.get_option("STRIPE_PRORATE_ON_CANCEL"):
            cancel_params["prorate"] = True
        if details:
            cancel_params["cancellation_details"] = details
        with stripe_errors():
            try:
                self.client.v1.subscriptions.cancel(reference, cancel_params or None)
            except stripe.InvalidRequestError as exc:
                # A retry after a lost answer finds it already cancelled: that is success.
                if self._already_canceled(reference):
                    return
                raise exc

    def _already_canceled(self, reference: str) -> bool:
        try:
            sub = self.client.v1.subscriptions.retrieve(reference)
        except stripe.StripeError:
            return False
        return sub.status == "canceled"

    def reactivate(self, reference: str, *, case: CancellationCase) -> None:
        params: SubscriptionUpdateParams = {
            "cancel_at_period_end": False,
            "metadata": {"graceful_cancel_case": case.reference},
        }
        self._update(reference, params)

    # --- returns (docs/returns.md) ------------------------------------------------------------

    def _saved_payment_method(self, customer_id: str) -> str:
        """The customer's default payment method (or legacy default source), or ""."""
        with stripe_errors():
            customer = self.client.v1.customers.retrieve(customer_id).to_dict()
        invoice_settings = customer.get("invoice_settings") or {}
        method = invoice_settings.get("default_payment_method") or customer.get("default_source")
        return str(getattr(method, "id", method) or "")

    def _offer_price(
        self, offer: RetentionOffer, amount: Decimal, currency: str
    ) -> tuple[Decimal, int]:
        """The first charge(s) with a win-back discount, and how many charges it lasts."""
        params = offer.parameters if isinstance(offer.parameters, dict) else {}
        percent, amount_off = params.get("percent_off"), params.get("amount_off")
        months = int(params.get("duration_months") or 1)
        if params.get("coupon"):
            with stripe_errors():
                coupon = self.client.v1.coupons.retrieve(str(params["coupon"])).to_dict()
            percent, amount_off = coupon.get("percent_off"), coupon.get("amount_off")
            months = int(coupon.get("duration_in_months") or 1)
        # In the currency's smallest unit, as Stripe counts: the discount is rounded to a whole
        # cent (half up), then taken off.
        zero_decimal = currency.lower() in ZERO_DECIMAL_CURRENCIES
        minor = amount if zero_decimal else amount * 100
        if percent is not None:
            off = (minor * Decimal(str(percent)) / 100).quantize(Decimal(1), ROUND_HALF_UP)
        elif amount_off is not None:
            off = Decimal(str(amount_off))
        else:
            raise BackendError(
                _("This discount offer has neither a coupon nor an amount."), transient=False
            )
        return self._amount(max(minor - off, Decimal(0)), currency), months

    def resubscribe_quote(
        self, case: CancellationCase, *, offer: RetentionOffer | None = None
    ) -> ResubscribeQuote | None:
        """The plan of the ended subscription, at its price, from now; a Checkout Session when
        the customer has no saved payment method. Two reads (the old subscription, the
        customer), three with a named coupon."""
        old = self.get_subscription(case.subscription_ref) if case.subscription_ref else None
        if old is None or old.price is None or not old.extra.get("price_id"):
            return None
        customer_id = str(old.extra.get("customer") or "")
        if not customer_id:
            return None
        offer_amount, periods = (None, 1)
        if offer is not None:
            offer_amount, periods = self._offer_price(offer, old.price, old.currency)
        return ResubscribeQuote(
            plan=old.plan,
            plan_code=old.plan_code,
            amount=old.price,
            currency=old.currency,
            interval=old.interval,
            first_charge_at=timezone.now(),
            offer_amount=offer_amount,
            offer_periods=periods,
            needs_checkout=not self._saved_payment_method(customer_id),
            extra={"customer": customer_id, "price_id": str(old.extra["price_id"])},
        )

    def resubscribe(
        self,
        case: CancellationCase,
        *,
        quote: ResubscribeQuote,
        offer: RetentionOffer | None,
        idempotency_key: str,
        return_url: str,
    ) -> ResubscribeResult:
        """A new subscription on the saved payment method, charged now; Stripe refuses it rather
        than leave it unpaid (``error_if_incomplete``). Without a saved method: a Checkout
        Session (mode subscription) the customer completes, back at ``return_url``."""
        customer, price_id = str(quote.extra["customer"]), str(quote.extra["price_id"])
        metadata = {"graceful_cancel_case": case.reference, "graceful_cancel_return": "1"}
        coupon = self.coupon_for(offer, dict(offer.parameters or {})) if offer else ""
        if quote.needs_checkout:
            session: SessionCreateParams = {
                "mode": "subscription",
                "customer": customer,
                "line_items": [{"price": price_id, "quantity": 1}],
                "success_url": f"{return_url}?session_id={{CHECKOUT_SESSION_ID}}",
                "cancel_url": return_url,
                "client_reference_id": case.reference,
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            }
            if coupon:
                session["discounts"] = [{"coupon": coupon}]
            with stripe_errors():
                created = self.client.v1.checkout.sessions.create(
                    session, {"idempotency_key": idempotency_key}
                )
            return ResubscribeResult(
                method="checkout", redirect_url=str(created.url or ""), checkout_ref=created.id
            )
        # Prices ("price_...") are today's API; legacy plans (and localstripe) take "plan".
        item: SubscriptionCreateParamsItem = (
            {"price": price_id} if price_id.startswith("price_") else {"plan": price_id}
        )
        params: SubscriptionCreateParams = {
            "customer": customer,
            "items": [item],
            "payment_behavior": "error_if_incomplete",
            "metadata": metadata,
        }
        if coupon:
            params["discounts"] = [{"coupon": coupon}]
        with stripe_errors():
            sub = self.client.v1.subscriptions.create(params, {"idempotency_key": idempotency_key})
        return ResubscribeResult(method="subscription", reference=str(sub.id))

    def resubscribe_completed(self, case: CancellationCase, checkout_ref: str) -> str | None:
        """The subscription a completed Checkout Session created, else None."""
        with stripe_errors():
            session = self.client.v1.checkout.sessions.retrieve(checkout_ref).to_dict()
        if session.get("status") != "complete" or not session.get("subscription"):
            return None
        if (session.get("metadata") or {}).get("graceful_cancel_case") != case.reference:
            return None  # a session of another case: never attribute it here
        subscription = session["subscription"]
        if isinstance(subscription, dict):  # expanded
            subscription = subscription.get("id", "")
        return str(subscription) or None

    def can_apply(self, offer: RetentionOffer) -> bool:
        return super().can_apply(offer) and not self.offer_problem(offer)

    def offer_problems(self, offer: RetentionOffer) -> list[CheckMessage]:
        problem = self.offer_problem(offer) if super().can_apply(offer) else ""
        if not problem:
            return []
        return [
            Warning(
                f"The offer {offer.slug!r} cannot be applied at Stripe: {problem}. It is not "
                "shown to anyone until this is fixed.",
                hint=f"Fix the offer's parameters or the Stripe settings. See {self.options_docs}.",
                obj=offer,
                id="graceful_cancel.W011",
            )
        ]

    def offer_problem(self, offer: RetentionOffer) -> str:
        """Why this offer cannot be applied as configured, or "" (reads no network)."""
        params = offer.parameters if isinstance(offer.parameters, dict) else {}
        if offer.kind == OfferKind.DISCOUNT:
            if not any(params.get(k) is not None for k in ("coupon", "percent_off", "amount_off")):
                return 'a discount needs a "coupon", a "percent_off" or an "amount_off"'
        elif offer.kind == OfferKind.DOWNGRADE:
            code = str(params.get("plan") or "")
            if not code:
                return 'a downgrade needs a "plan"'
            try:
                self.target_price(code)
            except BackendError:
                return f"STRIPE_PRICES has no price for the plan {code!r}"
        elif offer.kind == OfferKind.FREE_FEATURE:
            feature = str(params.get("feature") or "")
            prices = self.get_option("STRIPE_FEATURE_PRICES") or {}
            if not (params.get("price") or prices.get(feature)):
                return f"STRIPE_FEATURE_PRICES has no price for the feature {feature!r}"
        return ""

    def apply_offer(
        self, reference: str, offer: RetentionOffer, *, case: CancellationCase
    ) -> dict[str, Any]:
        params = dict(offer.parameters or {})
        handler = {
            "discount": self._apply_discount,
            "pause": self._apply_pause,
            "downgrade": self._apply_downgrade,
            "extension": self._apply_extension,
            "free_feature": self._apply_free_feature,
        }.get(offer.kind)
        if handler is None:
            # Consultation calls and unknown kinds change nothing at Stripe.
            return {"kind": offer.kind, "applied_by": "signal"}
        result = handler(reference, offer, params, case)
        return {"kind": offer.kind, "applied_by": "stripe", **result}

    # Offers -------------------------------------------------------------------------------

    def coupon_for(self, offer: RetentionOffer, params: dict[str, Any]) -> str:
        """The coupon of a discount offer: the one it names, or one created once and reused.

        The created coupon's id is derived from the offer's slug and terms, so a second
        acceptance (or a retry after a lost answer) finds it instead of creating another.
        """
        if params.get("coupon"):
            return str(params["coupon"])
        percent = params.get("percent_off")
        amount = params.get("amount_off")
        months = params.get("duration_months")
        if percent is None and amount is None:
            raise BackendError(
                _("This discount offer has neither a coupon nor an amount."), transient=False
            )
        terms = f"{percent or 0}p{amount or 0}a{months or 0}m"
        coupon_id = f"gc-{offer.slug}-{terms}".replace(".", "_")[:200]
        with stripe_errors():
            try:
                return str(self.client.v1.coupons.retrieve(coupon_id).id)
            except stripe.InvalidRequestError as exc:
                if exc.code != "resource_missing" and exc.http_status != 404:
                    raise
            create: CouponCreateParams = {
                "id": coupon_id,
                "metadata": {"graceful_cancel_offer": offer.slug},
            }
            if percent is not None:
                create["percent_off"] = float(percent)
            elif amount is not None:
                create["amount_off"] = int(amount)
                create["currency"] = str(params.get("currency") or "eur").lower()
            if months:
                create["duration"] = "repeating"
                create["duration_in_months"] = int(months)
            else:
                create["duration"] = str(params.get("duration") or "once")
            return str(self.client.v1.coupons.create(create).id)

    def _apply_discount(
        self, reference: str, offer: RetentionOffer, params: dict[str, Any], case: Any
    ) -> dict[str, Any]:
        coupon = self.coupon_for(offer, params)
        update: SubscriptionUpdateParams = {
            "discounts": [{"coupon": coupon}],
            "metadata": {"graceful_cancel_case": case.reference},
        }
        self._update(reference, update)
        return {"coupon": coupon}

    def pause_mode(self) -> str:
        """The pause mode to use, "native" or "pause_collection", as ``STRIPE_PAUSE_MODE`` says
        (``auto``: by the API version the SDK pins, ``NATIVE_PAUSE_SINCE``)."""
        mode = str(self.get_option("STRIPE_PAUSE_MODE"))
        if mode == "auto":
            pinned = str(getattr(stripe, "api_version", "") or "")[:10]
            native = bool(pinned) and pinned >= NATIVE_PAUSE_SINCE
            return "native" if native else "pause_collection"
        return mode

    def _apply_pause(
        self, reference: str, offer: RetentionOffer, params: dict[str, Any], case: Any
    ) -> dict[str, Any]:
        days = int(params.get("days") or 30 * int(params.get("months") or 1))
        resumes_at = timezone.now() + dt.timedelta(days=days)
        if self.pause_mode() == "native":
            # A native pause has no end date at Stripe: the pause sweep resumes it on
            # ``resumes_at`` (services.pauses.sweep_pauses -> finish_pause).
            pause: SubscriptionPauseParams = {"type": "subscription"}
            with stripe_errors():
                self.client.v1.subscriptions.pause(reference, pause)
            return {
                "resumes_at": resumes_at.isoformat(),
                "paused_until": resumes_at.isoformat(),
                "pause_mode": "native",
            }
        update: SubscriptionUpdateParams = {
            "pause_collection": {
                "behavior": self.get_option("STRIPE_PAUSE_BEHAVIOR"),
                "resumes_at": _epoch(resumes_at),
            },
            "metadata": {"graceful_cancel_case": case.reference},
        }
        self._update(reference, update)
        # "paused_until" is the documented key the saved page reads (docs/backends.md).
        return {
            "resumes_at": resumes_at.isoformat(),
            "paused_until": resumes_at.isoformat(),
            "pause_mode": "pause_collection",
        }

    def _resume_native(self, reference: str) -> dict[str, Any]:
        resume: SubscriptionResumeParams = {
            "billing_cycle_anchor": {"type": "now"},
            "payment_behavior": self.get_option("STRIPE_RESUME_PAYMENT_BEHAVIOR"),
        }
        with stripe_errors():
            try:
                sub = self.client.v1.subscriptions.resume(reference, resume)
            except stripe.InvalidRequestError as exc:
                # A retry after a lost answer (or Stripe's own resume) finds it active.
                current = self.get_subscription(reference)
                if current is not None and current.extra.get("status") != PAUSED_STATUS:
                    return {"status": current.extra.get("status")}
                raise exc
        return {"status": sub.status}

    def _is_native(self, pause: Any) -> bool:
        return str(getattr(pause, "via", "") or "") == "native"

    def resume_pause(self, reference: str, *, case: Any, pause: Any) -> dict[str, Any]:
        """Native: POST .../resume (billing restarts now). ``pause_collection``: unset it."""
        if self._is_native(pause):
            return self._resume_native(reference)
        update: SubscriptionUpdateParams = {
            "pause_collection": "",
            "metadata": {"graceful_cancel_case": case.reference},
        }
        self._update(reference, update)
        return {"pause_collection": None}

    def extend_pause(
        self, reference: str, *, case: Any, pause: Any, ends_at: dt.datetime
    ) -> dict[str, Any]:
        """``pause_collection``: a later ``resumes_at``. Native: nothing changes at Stripe (its
        pause has no end date); the sweep resumes it on the new date."""
        if self._is_native(pause):
            return {"resumes_at": ends_at.isoformat()}
        update: SubscriptionUpdateParams = {
            "pause_collection": {
                "behavior": self.get_option("STRIPE_PAUSE_BEHAVIOR"),
                "resumes_at": _epoch(ends_at),
            },
            "metadata": {"graceful_cancel_case": case.reference},
        }
        self._update(reference, update)
        return {"resumes_at": ends_at.isoformat()}

    def finish_pause(self, reference: str, *, case: Any, pause: Any) -> dict[str, Any]:
        """Stripe resumes a ``pause_collection`` by itself at ``resumes_at``; a native pause is
        resumed here."""
        if self._is_native(pause):
            return self._resume_native(reference)
        return {}

    def target_price(self, code: str) -> str:
        """The Stripe price (or legacy plan) id a plan code names, by ``STRIPE_PRICES``."""
        prices = self.get_option("STRIPE_PRICES") or {}
        if code in prices:
            return str(prices[code])
        if code.startswith(("price_", "plan_")):
            return code
        raise BackendError(
            _("No Stripe price is configured for the plan %(plan)s.") % {"plan": code},
            code="stripe_unknown_plan",
            transient=False,
        )

    @staticmethod
    def _item_for(item_id: str, price_id: str) -> SubscriptionUpdateParamsItem:
        # Prices ("price_...") are today's API; older accounts (and localstripe) still have
        # Plans with ids of their own, which the "plan" parameter takes.
        if price_id.startswith("price_"):
            return {"id": item_id, "price": price_id}
        return {"id": item_id, "plan": price_id}

    def _apply_downgrade(
        self, reference: str, offer: RetentionOffer, params: dict[str, Any], case: Any
    ) -> dict[str, Any]:
        code = str(params.get("plan") or "")
        if not code:
            raise BackendError(_("A downgrade offer needs a 'plan' parameter."), transient=False)
        price_id = self.target_price(code)
        current = self.get_subscription(reference)
        item_id = (current.extra.get("item_id") if current else None) or ""
        if not item_id:
            raise BackendError(_("The subscription has no item to change."), transient=False)
        update: SubscriptionUpdateParams = {
            "items": [self._item_for(item_id, price_id)],
            "metadata": {"graceful_cancel_case": case.reference},
        }
        behavior = self.get_option("STRIPE_PRORATION_BEHAVIOR")
        if behavior:
            update["proration_behavior"] = behavior
        self._update(reference, update)
        return {"plan": code, "price": price_id}

    def _apply_extension(
        self, reference: str, offer: RetentionOffer, params: dict[str, Any], case: Any
    ) -> dict[str, Any]:
        if params.get("credit_amount"):
            return self._apply_credit(reference, offer, params, case)
        days = int(params.get("days") or 30 * int(params.get("months") or 1))
        current = self.get_subscription(reference)
        if current is None:
            raise BackendError(_("The subscription no longer exists."), transient=False)
        # Free days start when the paid period ends: the next invoice moves back by ``days``.
        start = max(current.current_period_end or timezone.now(), timezone.now())
        trial_end = start + dt.timedelta(days=days)
        update: SubscriptionUpdateParams = {
            "trial_end": _epoch(trial_end),
            "metadata": {"graceful_cancel_case": case.reference},
        }
        behavior = self.get_option("STRIPE_EXTENSION_PRORATION_BEHAVIOR")
        if behavior:
            update["proration_behavior"] = behavior
        self._update(reference, update)
        # The next invoice moves to trial_end: the subscription is paid until then.
        return {"trial_end": trial_end.isoformat(), "current_period_end": trial_end.isoformat()}

    def _apply_credit(
        self, reference: str, offer: RetentionOffer, params: dict[str, Any], case: Any
    ) -> dict[str, Any]:
        current = self.get_subscription(reference)
        customer = current.extra.get("customer") if current else None
        if not customer:
            raise BackendError(_("The subscription no longer exists."), transient=False)
        amount = int(params["credit_amount"])
        currency = str(params.get("currency") or (current.currency if current else "")).lower()
        # A negative balance is a credit the next invoices use up first.
        credit: CustomerCreateBalanceTransactionParams = {
            "amount": -abs(amount),
            "currency": currency,
            "description": str(offer.title)[:350],
            "metadata": {"graceful_cancel_case": case.reference},
        }
        with stripe_errors():
            txn = self.client.v1.customers.balance_transactions.create(str(customer), credit)
        return {"credit": abs(amount), "currency": currency, "balance_transaction": txn.id}

    def _apply_free_feature(
        self, reference: str, offer: RetentionOffer, params: dict[str, Any], case: Any
    ) -> dict[str, Any]:
        feature = str(params.get("feature") or "")
        price_id = str(
            params.get("price")
            or (self.get_option("STRIPE_FEATURE_PRICES") or {}).get(feature)
            or ""
        )
        if not price_id:
            raise BackendError(
                _("No Stripe price is configured for the feature %(feature)s.")
                % {"feature": feature or "?"},
                code="stripe_unknown_feature",
                transient=False,
            )
        months = int(params.get("months") or 1)
        coupon = self.coupon_for(
            offer, {"percent_off": 100, "duration_months": months, "coupon": params.get("coupon")}
        )
        until = timezone.now() + dt.timedelta(days=round(months * 30.44))
        item: SubscriptionUpdateParamsItem = {
            "price": price_id,
            "discounts": [{"coupon": coupon}],
            "metadata": {
                "graceful_cancel_feature": feature or price_id,
                "graceful_cancel_free_until": until.date().isoformat(),
            },
        }
        update: SubscriptionUpdateParams = {
            "items": [item],
            "proration_behavior": "none",
            "metadata": {"graceful_cancel_case": case.reference},
        }
        self._update(reference, update)
        return {"feature": feature, "price": price_id, "coupon": coupon, "free_until": str(until)}
