"""Where a customer is for the law (jurisdiction.py): the resolver's order and validation, the
mapping to profiles, the backends' billing country, the settings' checks, and what a case
records."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import RequestFactory
from django.urls import reverse

from django_graceful_cancel import services
from django_graceful_cancel.backends import get_backend
from django_graceful_cancel.backends.base import SubscriptionInfo
from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend
from django_graceful_cancel.jurisdiction import (
    DefaultJurisdictionResolver,
    Jurisdiction,
    normalize_subdivision,
    parse_jurisdiction,
    profile_for,
    resolve_jurisdiction,
)
from django_graceful_cancel.models import CancellationCase
from tests.support import flow_settings, gc_settings

pytestmark = pytest.mark.django_db

HEADERS = {"JURISDICTION_HEADER": "CF-IPCountry", "JURISDICTION_REGION_HEADER": "CF-Region-Code"}


def request_with(**headers: str) -> Any:
    return RequestFactory().get("/", headers=headers)


def with_fields(**fields: str) -> dict[str, Any]:
    """The test settings' SUBSCRIPTION_FIELDS with ``fields`` added."""
    from django.conf import settings

    return {**(settings.GRACEFUL_CANCEL.get("SUBSCRIPTION_FIELDS") or {}), **fields}


def billing(country: str = "", region: str = "") -> SubscriptionInfo:
    return SubscriptionInfo(reference="sub_1", country=country, region=region)


# --- the resolver's order ------------------------------------------------------------------------


def test_billing_country_wins_over_the_header_and_the_default(settings, customer):
    settings.GRACEFUL_CANCEL = gc_settings(**HEADERS, DEFAULT_JURISDICTION="FR")
    found = resolve_jurisdiction(
        customer, request_with(**{"CF-IPCountry": "US"}), subscription=billing("de")
    )
    assert found == Jurisdiction(country="DE", subdivision="", source="billing")


def test_the_header_is_next_with_its_region(settings, customer):
    settings.GRACEFUL_CANCEL = gc_settings(**HEADERS, DEFAULT_JURISDICTION="FR")
    request = request_with(**{"CF-IPCountry": "us", "CF-Region-Code": "MN"})
    found = resolve_jurisdiction(customer, request, subscription=billing())
    assert (found.code, found.source) == ("US-MN", "header")


def test_the_default_is_last_and_nothing_known_is_none(settings, customer):
    settings.GRACEFUL_CANCEL = gc_settings(DEFAULT_JURISDICTION="us-mn")
    found = resolve_jurisdiction(customer, request_with(), subscription=billing())
    assert (found.country, found.subdivision, found.source) == ("US", "US-MN", "default")
    settings.GRACEFUL_CANCEL = gc_settings(DEFAULT_JURISDICTION=None)
    assert resolve_jurisdiction(customer, request_with(), subscription=billing()) is None


@pytest.mark.parametrize("value", ["XX", "T1", "ZZ", "", "DEU", "D", "1A", "de-", " "])
def test_header_values_that_name_no_country_are_ignored(settings, customer, value):
    settings.GRACEFUL_CANCEL = gc_settings(**HEADERS, DEFAULT_JURISDICTION="FR")
    found = resolve_jurisdiction(customer, request_with(**{"CF-IPCountry": value}))
    assert (found.code, found.source) == ("FR", "default")


def test_no_header_is_read_unless_the_site_names_one(settings, customer):
    settings.GRACEFUL_CANCEL = gc_settings()
    assert resolve_jurisdiction(customer, request_with(**{"CF-IPCountry": "DE"})) is None


def test_a_region_header_that_is_not_a_code_keeps_the_country(settings, customer):
    settings.GRACEFUL_CANCEL = gc_settings(**HEADERS)
    request = request_with(**{"CF-IPCountry": "US", "CF-Region-Code": "<script>"})
    assert resolve_jurisdiction(customer, request).code == "US"


def test_the_default_resolver_asks_the_backend_when_not_given_the_subscription(
    settings, make_customer, plans
):
    alice = make_customer("alice", last_name="DE")
    settings.GRACEFUL_CANCEL = gc_settings(
        SUBSCRIPTION_FIELDS=with_fields(country="user__last_name")
    )
    assert resolve_jurisdiction(alice).code == "DE"


def test_a_site_resolver_by_dotted_path_function_or_class(settings, customer):
    settings.GRACEFUL_CANCEL = gc_settings(
        JURISDICTION_RESOLVER="tests.test_jurisdiction.always_quebec"
    )
    assert resolve_jurisdiction(customer).code == "CA-QC"
    settings.GRACEFUL_CANCEL = gc_settings(
        JURISDICTION_RESOLVER="tests.test_jurisdiction.OnlyTheHeader"
    )
    assert resolve_jurisdiction(customer, request_with(**{"X-Country": "AT"})).code == "AT"


def always_quebec(*, customer: Any, request: Any, subscription: Any) -> Jurisdiction:
    return Jurisdiction(country="CA", subdivision="CA-QC", source="crm")


class OnlyTheHeader(DefaultJurisdictionResolver):
    def from_request(self, request: Any) -> Jurisdiction | None:
        return parse_jurisdiction(request.headers.get("X-Country"), source="header")


@pytest.mark.parametrize(
    ("country", "region", "expected"),
    [
        ("US", "MN", "US-MN"),
        ("US", "us-mn", "US-MN"),
        ("US", "Minnesota", "US-MN"),
        ("US", "CA-MN", ""),  # another country's code
        ("DE", "BY", "DE-BY"),
        ("US", "", ""),
        ("", "MN", ""),
    ],
)
def test_subdivisions_are_normalised(country, region, expected):
    assert normalize_subdivision(country, region) == expected


# --- the mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "profile"),
    [
        ("DE", "de"),
        ("FR", "fr"),
        ("US-MN", "us-mn"),
        ("US-CA", "us"),
        ("US", "us"),
        ("AT", "eu"),
        ("NO", "eu"),  # EEA
        ("GB", "us"),
        ("JP", "us"),
    ],
)
def test_shipped_mapping(settings, code, profile):
    settings.GRACEFUL_CANCEL = gc_settings()
    assert profile_for(parse_jurisdiction(code)) == profile


def test_no_jurisdiction_gets_the_old_compliance_profile_setting(settings):
    settings.GRACEFUL_CANCEL = gc_settings(COMPLIANCE_PROFILE="eu")
    assert profile_for(None) == "eu"
    assert profile_for(parse_jurisdiction("JP")) == "eu"  # unmapped: the fallback too
    settings.GRACEFUL_CANCEL = gc_settings(COMPLIANCE_PROFILE="default")
    assert profile_for(None) == "us"


def test_the_site_mapping_goes_over_the_shipped_one(settings):
    settings.GRACEFUL_CANCEL = gc_settings(
        JURISDICTION_PROFILES={"AT": "de", "us-ca": "us-mn", "FR": None, "*": "eu"}
    )
    assert profile_for(parse_jurisdiction("AT")) == "de"
    assert profile_for(parse_jurisdiction("US-CA")) == "us-mn"
    assert profile_for(parse_jurisdiction("FR")) == "eu"  # removed: EU applies
    assert profile_for(parse_jurisdiction("JP")) == "eu"  # "*"
    assert profile_for(parse_jurisdiction("DE")) == "de"


# --- checks ------------------------------------------------------------------------------------


def check_ids(settings: Any, **values: Any) -> list[str]:
    settings.GRACEFUL_CANCEL = gc_settings(**values)
    return [m.id for m in run_checks() if m.id and m.id.startswith("graceful_cancel.")]


@pytest.mark.parametrize(
    "values",
    [
        {"DEFAULT_JURISDICTION": "Germany"},
        {"DEFAULT_JURISDICTION": "XX"},
        {"JURISDICTION_HEADER": 42},
        {"JURISDICTION_REGION_HEADER": "CF-Region-Code"},  # without the country header
        {"JURISDICTION_PROFILES": ["DE"]},
        {"JURISDICTION_PROFILES": {"Deutschland": "de"}},
        {"JURISDICTION_PROFILES": {"DE": "mars"}},
    ],
)
def test_bad_jurisdiction_settings_are_e071(settings, values):
    assert "graceful_cancel.E071" in check_ids(settings, **values)


def test_good_jurisdiction_settings_pass(settings):
    ids = check_ids(
        settings,
        **HEADERS,
        DEFAULT_JURISDICTION="US-MN",
        JURISDICTION_PROFILES={"AT": "de", "EU": "eu", "*": "us", "FR": None},
        JURISDICTION_RESOLVER="tests.test_jurisdiction.always_quebec",
    )
    assert not {"graceful_cancel.E071", "graceful_cancel.E003", "graceful_cancel.E004"} & set(ids)


def test_an_unimportable_resolver_is_e004(settings):
    assert "graceful_cancel.E004" in check_ids(
        settings, JURISDICTION_RESOLVER="tests.nowhere.resolver"
    )


# --- the backends' billing country ---------------------------------------------------------------


def test_model_backend_reads_the_configured_paths(settings, make_customer):
    alice = make_customer("mn", last_name="US")
    original = with_fields()
    settings.GRACEFUL_CANCEL = gc_settings(
        SUBSCRIPTION_FIELDS=with_fields(country="user__last_name", region="user__username")
    )
    info = get_backend().get_active_subscription(alice)
    assert (info.country, info.region) == ("US", "mn")
    settings.GRACEFUL_CANCEL = gc_settings(SUBSCRIPTION_FIELDS=original)
    info = get_backend().get_active_subscription(alice)
    assert (info.country, info.region) == ("", "")


def test_model_backend_check_rejects_a_country_path_that_does_not_exist(settings):
    assert "graceful_cancel.E005" in check_ids(
        settings, SUBSCRIPTION_FIELDS=with_fields(country="user__nowhere")
    )


def stripe_subscription(customer: Any) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "status": "active",
        "customer": customer,
        "items": {"data": [{"id": "si_1", "price": {"id": "price_1", "currency": "eur"}}]},
    }


@pytest.mark.parametrize(
    ("customer", "place"),
    [
        ({"id": "cus_1", "address": {"country": "DE", "state": None}}, ("DE", "")),
        ({"id": "cus_1", "address": {"country": "US", "state": "MN"}}, ("US", "MN")),
        # No address: the tax location Stripe derived (present when the object carries it).
        (
            {"id": "cus_1", "address": None, "tax": {"location": {"country": "FR", "state": ""}}},
            ("FR", ""),
        ),
        ({"id": "cus_1", "address": None}, ("", "")),
        ("cus_1", ("", "")),  # not expanded
    ],
)
def test_stripe_backend_reads_the_customers_address_then_tax_location(settings, customer, place):
    settings.GRACEFUL_CANCEL = gc_settings(STRIPE_API_KEY="sk_test_x")
    info = StripeSubscriptionBackend().describe(stripe_subscription(customer))
    assert (info.country, info.region) == place
    assert info.extra["customer"] == "cus_1"  # the id, expanded or not


# --- what the case records ---------------------------------------------------------------------


def test_start_case_records_the_jurisdiction_its_source_and_profile(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings()
    case, _ = services.start_case(customer, jurisdiction=parse_jurisdiction("DE", source="header"))
    assert (case.jurisdiction, case.jurisdiction_source, case.compliance_profile) == (
        "DE",
        "header",
        "de",
    )
    started = case.events.get(kind="started").data
    assert started["profile"] == "de" and started["jurisdiction"] == "DE"


def test_an_explicit_profile_wins_over_the_jurisdiction(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings()
    case, _ = services.start_case(
        customer, jurisdiction=parse_jurisdiction("DE"), compliance_profile="default"
    )
    assert (case.jurisdiction, case.compliance_profile) == ("DE", "us")


def test_the_start_page_resolves_and_records_the_customers_jurisdiction(
    settings, client, customer, catalogue
):
    settings.GRACEFUL_CANCEL = flow_settings(**HEADERS)
    client.force_login(customer)
    start = reverse("graceful_cancel:start")
    page = client.get(start, headers={"CF-IPCountry": "FR"}).content.decode()
    assert "Cancel your contract" in page and 'id="gc-continue"' not in page
    response = client.post(start, {"action": "cancel"}, headers={"CF-IPCountry": "FR"})
    case = CancellationCase.objects.get(customer=customer)
    assert response.status_code == 302
    assert (case.jurisdiction, case.jurisdiction_source, case.compliance_profile) == (
        "FR",
        "header",
        "fr",
    )


def test_the_api_resolves_and_records_the_customers_jurisdiction(settings, customer, catalogue):
    from rest_framework.test import APIClient

    settings.GRACEFUL_CANCEL = gc_settings(**HEADERS)
    api = APIClient()
    api.force_authenticate(customer)
    rules = api.get(reverse("graceful_cancel_api:rules"), headers={"CF-IPCountry": "DE"}).json()
    assert (rules["profile"], rules["heading"], rules["confirm_label"]) == (
        "de",
        "Cancel contracts here",
        "Cancel now",
    )
    body = api.post(
        reverse("graceful_cancel_api:case-list"),
        {},
        format="json",
        headers={"CF-IPCountry": "US", "CF-Region-Code": "MN"},
    ).json()
    assert (body["jurisdiction"], body["jurisdiction_source"]) == ("US-MN", "header")
    assert body["rules"]["profile"] == "us-mn"
    assert body["rules"]["offers"] is False and body["rules"]["offer_after_confirm"] is True


def test_the_api_reads_the_billing_country_with_the_one_backend_call(settings, make_customer):
    from unittest import mock

    from rest_framework.test import APIClient

    from django_graceful_cancel.backends.model import ModelSubscriptionBackend

    anna = make_customer("anna", last_name="DE")
    settings.GRACEFUL_CANCEL = gc_settings(
        SUBSCRIPTION_FIELDS=with_fields(country="user__last_name")
    )
    api = APIClient()
    api.force_authenticate(anna)
    original = ModelSubscriptionBackend.get_active_subscription
    with mock.patch.object(
        ModelSubscriptionBackend, "get_active_subscription", autospec=True, side_effect=original
    ) as spy:
        body = api.post(reverse("graceful_cancel_api:case-list"), {}, format="json").json()
    assert (body["jurisdiction"], body["jurisdiction_source"]) == ("DE", "billing")
    assert body["rules"]["profile"] == "de"
    assert spy.call_count == 1  # the resolver used the subscription start_case read
