"""Where a customer is, for the law: the jurisdiction a case's compliance profile follows.

``resolve_jurisdiction(customer, request)`` calls the resolver named by
``GRACEFUL_CANCEL["JURISDICTION_RESOLVER"]`` (``DefaultJurisdictionResolver`` unless the site
replaces it) and ``profile_for(jurisdiction)`` maps the answer to a compliance profile through
``JURISDICTION_PROFILES``. The pages and the API resolve both when a case starts and hand them to
``services.start_case``, which records them on the case (docs/compliance.md).

The default resolver asks, in order:

1. the billing address the subscription backend knows (``SubscriptionInfo.country`` and
   ``region``: the Stripe backend reads the customer's address, then their tax location; the model
   backend reads the ``country``/``region`` paths of ``SUBSCRIPTION_FIELDS``);
2. the request header a CDN or proxy sets (``JURISDICTION_HEADER``, e.g. Cloudflare's
   ``CF-IPCountry``, and ``JURISDICTION_REGION_HEADER``), believed only when it holds a real
   country code: two letters, not the "unknown" XX nor Tor's T1;
3. the site's ``DEFAULT_JURISDICTION``.

None of them known: no jurisdiction, and the case gets ``COMPLIANCE_PROFILE``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.checks import CheckMessage, Error
from django.http import HttpRequest

from .backends import get_backend
from .backends.base import SubscriptionInfo
from .choices import ComplianceProfile, JurisdictionSource
from .compliance import fallback_profile, known_profile, rules_for
from .conf import SETTINGS_NAME, app_settings
from .exceptions import BackendError

E_JURISDICTION = "graceful_cancel.E071"

#: EU member states and the other EEA countries (the Consumer Rights Directive applies there).
EU_EEA: frozenset[str] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)

#: The shipped mapping, under the site's ``JURISDICTION_PROFILES``.
DEFAULT_PROFILES: dict[str, str] = {
    "US-MN": ComplianceProfile.US_MN,
    "DE": ComplianceProfile.DE,
    "FR": ComplianceProfile.FR,
    "EU": ComplianceProfile.EU,
}

#: Country codes that name no country: "unknown" (Cloudflare, many GeoIP databases) and Tor.
UNKNOWN_COUNTRIES = frozenset({"XX", "T1", "ZZ"})

_COUNTRY = re.compile(r"[A-Z]{2}")
_REGION = re.compile(r"[A-Z0-9]{1,3}")

#: US states by name, for billing addresses that spell the state out ("Minnesota").
US_STATES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA",
    "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",
}  # fmt: skip


@dataclass(frozen=True)
class Jurisdiction:
    """A customer's place for the law: a country and, where its law differs by state or
    province, the subdivision; ``source`` says where it was learnt (``JurisdictionSource``)."""

    #: ISO 3166-1 alpha-2 country code, upper case ("DE").
    country: str
    #: ISO 3166-2 subdivision code ("US-MN"), or "" when unknown or not needed.
    subdivision: str = ""
    #: "billing", "header" or "default" (or a site resolver's own word).
    source: str = JurisdictionSource.DEFAULT

    @property
    def code(self) -> str:
        """The most specific code: the subdivision when known, else the country."""
        return self.subdivision or self.country

    def __str__(self) -> str:
        return self.code


def normalize_country(value: Any) -> str:
    """A usable ISO 3166-1 alpha-2 code from ``value``, or "" (not two letters, or unknown)."""
    code = str(value or "").strip().upper()
    if not _COUNTRY.fullmatch(code) or code in UNKNOWN_COUNTRIES:
        return ""
    return code


def normalize_subdivision(country: str, value: Any) -> str:
    """``"US-MN"`` from ``("US", "MN")``, ``("US", "us-mn")`` or ``("US", "Minnesota")``; "" when
    ``value`` is empty or not a subdivision code of ``country``."""
    raw = str(value or "").strip().upper()
    if not country or not raw:
        return ""
    if country == "US" and raw in US_STATES:
        raw = US_STATES[raw]
    prefix, dash, rest = raw.partition("-")
    if dash:
        if prefix != country:
            return ""
        raw = rest
    return f"{country}-{raw}" if _REGION.fullmatch(raw) else ""


def parse_jurisdiction(
    value: Any, *, source: str = JurisdictionSource.DEFAULT
) -> Jurisdiction | None:
    """``"DE"`` or ``"US-MN"`` as a ``Jurisdiction``; None for anything else."""
    raw = str(value or "").strip().upper()
    country, _, region = raw.partition("-")
    country = normalize_country(country)
    if not country:
        return None
    subdivision = normalize_subdivision(country, region) if region else ""
    if region and not subdivision:
        return None
    return Jurisdiction(country=country, subdivision=subdivision, source=source)


def _header(request: HttpRequest | None, name: Any) -> str:
    if request is None or not name:
        return ""
    return str(request.headers.get(str(name), "") or "")


class DefaultJurisdictionResolver:
    """Billing address, then the request's country header, then ``DEFAULT_JURISDICTION``.

    Subclass it and override one step (``from_billing``, ``from_request``, ``from_default``), or
    replace it with any callable ``resolver(*, customer, request, subscription)``.
    """

    def __call__(
        self,
        *,
        customer: Any,
        request: HttpRequest | None = None,
        subscription: SubscriptionInfo | None = None,
    ) -> Jurisdiction | None:
        return (
            self.from_billing(customer, subscription)
            or self.from_request(request)
            or self.from_default()
        )

    def from_billing(
        self, customer: Any, subscription: SubscriptionInfo | None
    ) -> Jurisdiction | None:
        """The subscription's billing country and region, as the backend reports them."""
        if subscription is None and customer is not None and getattr(customer, "pk", None):
            try:
                subscription = get_backend().get_active_subscription(customer)
            except BackendError:
                # The provider is down: the flow reports that itself; here the next step decides.
                subscription = None
        if subscription is None:
            return None
        country = normalize_country(getattr(subscription, "country", ""))
        if not country:
            return None
        return Jurisdiction(
            country=country,
            subdivision=normalize_subdivision(country, getattr(subscription, "region", "")),
            source=JurisdictionSource.BILLING,
        )

    def from_request(self, request: HttpRequest | None) -> Jurisdiction | None:
        """``JURISDICTION_HEADER`` (and ``JURISDICTION_REGION_HEADER``), when they hold codes."""
        country = normalize_country(_header(request, app_settings.JURISDICTION_HEADER))
        if not country:
            return None
        region = _header(request, app_settings.JURISDICTION_REGION_HEADER)
        return Jurisdiction(
            country=country,
            subdivision=normalize_subdivision(country, region),
            source=JurisdictionSource.HEADER,
        )

    def from_default(self) -> Jurisdiction | None:
        return parse_jurisdiction(
            app_settings.DEFAULT_JURISDICTION, source=JurisdictionSource.DEFAULT
        )


def resolve_jurisdiction(
    customer: Any,
    request: HttpRequest | None = None,
    *,
    subscription: SubscriptionInfo | None = None,
) -> Jurisdiction | None:
    """The customer's jurisdiction by the configured ``JURISDICTION_RESOLVER``.

    ``subscription`` saves the default resolver a backend call when the caller has it already.
    """
    resolver = app_settings.JURISDICTION_RESOLVER
    if isinstance(resolver, type):
        resolver = resolver()
    found = resolver(customer=customer, request=request, subscription=subscription)
    return found if isinstance(found, Jurisdiction) else None


def profile_mapping() -> dict[str, str]:
    """The shipped ``DEFAULT_PROFILES`` with the site's ``JURISDICTION_PROFILES`` over them."""
    mapping: dict[str, str] = dict(DEFAULT_PROFILES)
    configured = app_settings.JURISDICTION_PROFILES or {}
    if isinstance(configured, Mapping):
        for key, profile in configured.items():
            if profile is None:
                mapping.pop(str(key).upper(), None)
            else:
                mapping[str(key).upper()] = str(profile)
    return mapping


def profile_for(jurisdiction: Jurisdiction | None) -> str:
    """The compliance profile of ``jurisdiction``: its subdivision's entry, its country's, "EU"
    for EU and EEA countries, then "*"; otherwise (and for no jurisdiction) ``COMPLIANCE_PROFILE``."""
    if jurisdiction is None:
        return fallback_profile()
    mapping = profile_mapping()
    keys = [jurisdiction.subdivision, jurisdiction.country]
    if jurisdiction.country in EU_EEA:
        keys.append("EU")
    keys.append("*")
    for key in keys:
        if key and key in mapping:
            return mapping[key]
    return fallback_profile()


def rules_for_request(request: HttpRequest, *, subscription: SubscriptionInfo | None = None) -> Any:
    """The rules for whoever sent ``request`` (signed in or not), before any case exists."""
    user = getattr(request, "user", None)
    customer = user if getattr(user, "is_authenticated", False) else None
    return rules_for(
        profile_for(resolve_jurisdiction(customer, request, subscription=subscription))
    )


def check_jurisdiction_settings(user: Mapping[str, Any]) -> list[CheckMessage]:
    """E071: a default jurisdiction, header or mapping the resolver cannot use."""
    hint = f"See {'docs/compliance.md'}, 'Where the customer is'."
    errors: list[CheckMessage] = []

    def error(message: str) -> None:
        errors.append(Error(f"{SETTINGS_NAME}{message}", hint=hint, id=E_JURISDICTION))

    default = user.get("DEFAULT_JURISDICTION")
    if default is not None and parse_jurisdiction(default) is None:
        error(f"['DEFAULT_JURISDICTION'] = {default!r} is not a country code (\"DE\") or a "
              'subdivision code ("US-MN").')  # fmt: skip
    for key in ("JURISDICTION_HEADER", "JURISDICTION_REGION_HEADER"):
        value = user.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            error(f"[{key!r}] = {value!r} must be None or a header name such as 'CF-IPCountry'.")
    if user.get("JURISDICTION_REGION_HEADER") and not user.get("JURISDICTION_HEADER"):
        error("['JURISDICTION_REGION_HEADER'] is read only with JURISDICTION_HEADER set.")
    mapping = user.get("JURISDICTION_PROFILES")
    if mapping is not None:
        if not isinstance(mapping, Mapping):
            error("['JURISDICTION_PROFILES'] must be a dict of jurisdiction -> profile name.")
            return errors
        for key, profile in mapping.items():
            if not isinstance(key, str) or (
                key.upper() not in ("EU", "*") and parse_jurisdiction(key) is None
            ):
                error(f"['JURISDICTION_PROFILES'] key {key!r} is not a country code, a "
                      'subdivision code, "EU" or "*".')  # fmt: skip
            elif profile is not None and not known_profile(profile):
                error(f"['JURISDICTION_PROFILES'][{key!r}] = {profile!r} is not a profile.")
    return errors
