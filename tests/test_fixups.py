"""Loose ends of the jurisdiction (issue 16) and come-back (issue 17) work: the declaration's and
the withdrawal's jurisdiction, the W051 check under per-customer profiles, the come-back page's
sign-up wording and interval, the withdrawal link's per-request cache, the withdrawn case's page,
us-mn's recorded "no, thanks", and Stripe's interval_count in the monthly figures."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.template import Context, Template
from django.test import RequestFactory, TestCase, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from django_graceful_cancel import checks, feedback, priority, services, signals
from django_graceful_cancel.backends import get_backend
from django_graceful_cancel.backends.model import ModelSubscriptionBackend
from django_graceful_cancel.choices import CaseStatus, EventKind
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.followups import links
from django_graceful_cancel.intervals import months_per_interval
from django_graceful_cancel.jurisdiction import parse_jurisdiction
from django_graceful_cancel.models import CancellationCase, CancellationDeclaration
from django_graceful_cancel.services import evidence, flow, revenue
from django_graceful_cancel.templatetags.graceful_cancel_returns import gc_interval
from tests.support import flow_settings, gc_settings
from tests.support.stripe import stripe_settings, subscription_body
from tests.testapp.models import Plan, Subscription

pytestmark = pytest.mark.django_db

HEADER = {"JURISDICTION_HEADER": "CF-IPCountry", "JURISDICTION_REGION_HEADER": "CF-Region-Code"}
DECLARE = "/account/cancel/declare/"
WITHDRAW = "/account/cancel/withdraw/"
API_WITHDRAW = "/api/cancel/withdrawal/"


@pytest.fixture(autouse=True)
def _headers(settings: Any) -> None:
    # "us" for whoever the header does not place: the country header decides each test's profile.
    settings.GRACEFUL_CANCEL = flow_settings(
        COMPLIANCE_PROFILE="us", SITE_URL="http://testserver", **HEADER
    )


def subscription_ref(user: Any) -> str:
    return f"testapp.subscription:{Subscription.objects.get(user=user).pk}"


# --- 1. A declaration case follows the sender's profile -------------------------------------------


@pytest.mark.parametrize(
    ("country", "profile"), [("DE", "de"), ("AT", "eu"), ("FR", "eu")], ids=["de", "at", "fr"]
)
def test_a_declaration_case_gets_the_visitors_profile_and_jurisdiction(
    client, customer, catalogue, django_capture_on_commit_callbacks, settings, country, profile
):
    if country == "FR":
        # fr has no declaration page of its own: a site mapping France to eu shows it.
        settings.GRACEFUL_CANCEL = flow_settings(
            COMPLIANCE_PROFILE="us", JURISDICTION_PROFILES={"FR": "eu"}, **HEADER
        )
    data = {"name": "Alice", "email": customer.email, "termination": "ordinary"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DECLARE, data, headers={"CF-IPCountry": country})
    assert response.status_code == 302
    case = CancellationDeclaration.objects.get().case
    assert case is not None and case.status == CaseStatus.CANCELLED
    assert (case.compliance_profile, case.jurisdiction) == (profile, country)
    assert case.jurisdiction_source == "header"


def test_a_declaration_without_the_request_uses_the_sites_default_jurisdiction(
    customer, catalogue, settings
):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu", DEFAULT_JURISDICTION="DE")
    declaration = services.declare_cancellation(name="Alice", email=customer.email)
    assert declaration.case is not None
    assert (declaration.case.compliance_profile, declaration.case.jurisdiction) == ("de", "DE")


def test_a_jurisdiction_whose_profile_has_no_declaration_page_keeps_eu(customer, catalogue):
    where = parse_jurisdiction("US", source="header")
    declaration = services.receive_declaration(name="Alice", email=customer.email)
    services.process_declaration(declaration.pk, jurisdiction=where)
    case = CancellationDeclaration.objects.get().case
    assert case is not None
    assert (case.compliance_profile, case.jurisdiction) == ("eu", "US")


# --- W051: the no-login pages' rate limit under per-customer profiles -----------------------------


REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"}}
PROXY = ("HTTP_X_FORWARDED_PROTO", "https")
NO_PAGES = {"DE": None, "FR": None, "EU": None, "US-MN": None}


def w051(**gc: Any) -> bool:
    with override_settings(
        CACHES=REDIS,
        SECURE_PROXY_SSL_HEADER=PROXY,
        GRACEFUL_CANCEL=gc_settings(API_WRITE_THROTTLE_RATE=None, **gc),
    ):
        return "graceful_cancel.W051" in [m.id for m in checks.check_rate_limit_deployment()]


def test_the_proxy_warning_counts_every_profile_a_customer_can_get():
    # A us site still serves German customers the declaration page through the shipped mapping.
    assert w051(COMPLIANCE_PROFILE="us")
    assert not w051(COMPLIANCE_PROFILE="us", JURISDICTION_PROFILES=NO_PAGES)
    # The site's mapping, its fallback and its own profiles each can bring a no-login page back.
    assert w051(COMPLIANCE_PROFILE="us", JURISDICTION_PROFILES={**NO_PAGES, "CH": "de"})
    assert w051(COMPLIANCE_PROFILE="eu", JURISDICTION_PROFILES=NO_PAGES)
    assert w051(
        COMPLIANCE_PROFILE="us",
        JURISDICTION_PROFILES=NO_PAGES,
        COMPLIANCE_PROFILES={"acme": {"base": "eu"}},
    )
    assert not w051(COMPLIANCE_PROFILE="eu", DECLARATION_RATE_LIMIT=0)


# --- 2. A withdrawal records the jurisdiction the request showed ----------------------------------


def test_the_withdrawal_page_records_the_header_jurisdiction_on_the_case(
    client, make_customer, catalogue, django_capture_on_commit_callbacks
):
    customer = make_customer("nora", tenure_days=3)
    client.force_login(customer)
    form = {"name": "Nora", "email": customer.email, "subscription": subscription_ref(customer)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(WITHDRAW, form, headers={"CF-IPCountry": "DE"})
    assert response.status_code == 302
    case = CancellationCase.objects.get(customer=customer)
    assert case.status == CaseStatus.WITHDRAWN
    assert (case.compliance_profile, case.jurisdiction, case.jurisdiction_source) == (
        "de",
        "DE",
        "header",
    )


def test_the_withdrawal_api_records_the_header_jurisdiction_on_the_case(
    client, make_customer, catalogue, django_capture_on_commit_callbacks
):
    customer = make_customer("fran", tenure_days=3)
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            API_WITHDRAW, {}, content_type="application/json", headers={"CF-IPCountry": "FR"}
        )
    assert response.status_code == 201
    case = CancellationCase.objects.get(customer=customer)
    assert (case.compliance_profile, case.jurisdiction, case.jurisdiction_source) == (
        "fr",
        "FR",
        "header",
    )


# --- 3. The come-back page on the site's sign-up page, and its interval ---------------------------


def cancelled_and_ended(customer: Any) -> CancellationCase:
    case, _ = services.start_case(customer, language="en")
    services.record_reason(case, "price", contact_consent=True)
    if services.present_offer(case) is not None:
        services.decline_offer(case)
    return services.confirm_cancellation(case)


def comeback_page(client: Any, case: CancellationCase) -> str:
    assert case.effective_at is not None
    with time_machine.travel(case.effective_at + timedelta(days=11), tick=False):
        url = links.comeback_link(case).removeprefix("http://testserver")
        assert url
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


SIGNUP = {
    "RESUBSCRIBE_HOOK": None,
    "RESUBSCRIBE_URL": "/join/",
    "FOLLOWUP_QUIET_HOURS": None,
    "FOLLOWUP_MIN_INTERVAL_HOURS": 0,
}


def price_of(html: str) -> str:
    found = re.search(r"<dd data-gc-price>(.*?)</dd>", html, re.S)
    assert found is not None
    return " ".join(found.group(1).split())


@override_settings(GRACEFUL_CANCEL=gc_settings(**SIGNUP))
def test_the_sign_up_page_return_has_its_own_words_and_the_interval_it_knows(
    client, customer, catalogue
):
    html = comeback_page(client, cancelled_and_ended(customer))
    assert "our sign-up page" in html
    assert "secure payment page" not in html and "payment method" not in html
    assert 'id="gc-comeback-confirm">Continue to sign-up</button>' in html
    assert price_of(html).endswith("per month")


@override_settings(GRACEFUL_CANCEL=gc_settings(**SIGNUP))
def test_the_come_back_page_invents_no_interval(client, make_customer, catalogue):
    Plan.objects.update(interval="")
    html = comeback_page(client, cancelled_and_ended(make_customer("nointerval")))
    assert "per " not in price_of(html) and "every" not in price_of(html)


@override_settings(GRACEFUL_CANCEL=gc_settings(**SIGNUP))
def test_a_quarterly_price_reads_every_three_months(client, make_customer, catalogue):
    Plan.objects.update(interval="3 month")
    html = comeback_page(client, cancelled_and_ended(make_customer("quarterly")))
    assert price_of(html).endswith("every 3 months")


def test_interval_wording():
    assert [gc_interval(v) for v in ("month", "year", "2 week", "quarterly", "", None)] == [
        "per month",
        "per year",
        "every 2 weeks",
        "per quarter",
        "",
        "",
    ]
    assert gc_interval("term") == "per term"


# --- 4. The withdrawal link asks the backend once per request -------------------------------------


def test_the_withdrawal_link_asks_the_backend_once_per_request(make_customer, monkeypatch):
    customer = make_customer("nora", tenure_days=3)
    calls: list[Any] = []
    original = ModelSubscriptionBackend.get_active_subscription

    def counted(self: Any, user: Any) -> Any:
        calls.append(user)
        return original(self, user)

    monkeypatch.setattr(ModelSubscriptionBackend, "get_active_subscription", counted)
    request = RequestFactory().get("/account/", headers={"CF-IPCountry": "DE"})
    request.user = customer
    template = Template(
        "{% load graceful_cancel_withdrawal %}{% gc_withdrawal_link %}"
        "{% gc_withdrawal_url as url %}[{{ url }}]{% gc_withdrawal_link %}"
    )
    html = template.render(Context({"request": request}))
    assert html.count(f'href="{WITHDRAW}"') == 2 and f"[{WITHDRAW}]" in html
    assert len(calls) == 1
    # Another request asks again.
    other = RequestFactory().get("/account/", headers={"CF-IPCountry": "DE"})
    other.user = customer
    template.render(Context({"request": other}))
    assert len(calls) == 2


# --- 5. A withdrawn case has its own page ---------------------------------------------------------


def test_a_withdrawn_case_shows_the_acknowledgement_not_nothing_to_cancel(
    client, make_customer, catalogue, django_capture_on_commit_callbacks
):
    customer = make_customer("nora", tenure_days=3)
    where = parse_jurisdiction("DE", source="header")
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = services.withdraw(
            customer,
            name="Nora",
            email=customer.email,
            subscription=subscription_ref(customer),
            profile="de",
            jurisdiction=where,
            actor=customer,
        )
    case = CancellationCase.objects.get(customer=customer)
    assert case.status == CaseStatus.WITHDRAWN
    client.force_login(customer)
    acknowledgement = withdrawal.acknowledgement_path
    for url in (
        reverse("graceful_cancel:done", args=[case.reference]),
        reverse("graceful_cancel:offer", args=[case.reference]),
        reverse("graceful_cancel:start"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == acknowledgement, url
    html = client.get(acknowledgement).content.decode()
    assert "Nothing to cancel" not in html
    assert "You have withdrawn from your contract" in html
    received = re.search(r'id="gc-received-at">([^<]*)<', html)
    assert received is not None and re.search(r"\((UTC|CES?T)\)", received.group(1))


# --- 6. us-mn: "no, thanks" is recorded through the services -------------------------------------


def test_no_thanks_to_hearing_an_offer_is_an_event_a_signal_and_evidence(customer, catalogue):
    case, _ = services.start_case(customer, jurisdiction=parse_jurisdiction("US-MN"))
    case, presentation = flow.submit_reason(case, flow.check_reason("price"))
    assert presentation is None
    case = services.confirm_cancellation(case)
    assert services.offer_question_open(case)
    sent: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        sent.append(kwargs)

    signals.offer_question_declined.connect(receiver)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.decline_offer_question(case, actor=customer)
            services.decline_offer_question(case, actor=customer)  # a double click: once
    finally:
        signals.offer_question_declined.disconnect(receiver)
    assert len(sent) == 1 and sent[0]["case"].pk == case.pk
    assert case.events.filter(kind=EventKind.OFFER_QUESTION_DECLINED).count() == 1
    assert not services.offer_question_open(case)  # asked once only, in any session
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    record = evidence.build_record(case)
    steps = [e for e in record["timeline"] if e["kind"] == EventKind.OFFER_QUESTION_DECLINED]
    assert len(steps) == 1
    assert steps[0]["type"] == "step" and steps[0]["label"] == "Offer question declined"


def test_no_thanks_is_refused_outside_us_mn(customer, catalogue):
    case, _ = services.start_case(customer, jurisdiction=parse_jurisdiction("DE"))
    case = services.confirm_cancellation(case)
    with pytest.raises(InvalidTransition):
        services.decline_offer_question(case)
    assert not case.events.filter(kind=EventKind.OFFER_QUESTION_DECLINED).exists()


# --- 7. Stripe's interval_count, and one per-month normalisation ----------------------------------


def stripe_info(interval: str, count: int | None) -> Any:
    body = subscription_body()
    recurring: dict[str, Any] = {"interval": interval}
    if count is not None:
        recurring["interval_count"] = count
    body["items"]["data"][0]["price"]["recurring"] = recurring
    settings = stripe_settings("http://127.0.0.1:9", STRIPE_PRICES={"standard": "price_standard"})
    with override_settings(GRACEFUL_CANCEL=settings):
        return get_backend().describe(body)


def test_a_quarterly_stripe_price_is_three_months_in_the_figures():
    info = stripe_info("month", 3)
    assert info.interval == "3 month"
    assert revenue.months_per_interval(info.interval) == 3
    assert revenue.monthly_amount(Decimal("30"), info.interval) == Decimal("10")
    assert stripe_info("month", 1).interval == "month"
    assert stripe_info("year", None).interval == "year"
    assert stripe_info("week", 2).interval == "2 week"


@pytest.mark.parametrize(
    ("interval", "monthly"),
    [("month", "12"), ("3 month", "4"), ("year", "1"), ("week", "52"), ("", "12")],
)
def test_every_monthly_figure_reads_intervals_alike(customer, interval, monthly):
    case = CancellationCase(customer=customer, price=Decimal("12"), billing_interval=interval)
    cent = Decimal("0.01")
    assert priority.monthly_value(case).quantize(cent) == Decimal(monthly)
    assert feedback._monthly(case).quantize(cent) == Decimal(monthly)
    expected = revenue.monthly_amount(Decimal("12"), interval)
    assert expected is None or expected.quantize(cent) == Decimal(monthly)
    assert months_per_interval("day") == Decimal(12) / Decimal(365)


def test_no_thanks_through_the_api(customer, catalogue):
    api = APIClient()
    api.force_authenticate(customer)
    minnesota = {"CF-IPCountry": "US", "CF-Region-Code": "MN"}
    body = api.post(
        reverse("graceful_cancel_api:case-list"), {}, format="json", headers=minnesota
    ).json()
    url = reverse("graceful_cancel_api:case-no-offer", args=[body["reference"]])
    early = api.post(url, {}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "case_not_cancelled"
    api.post(
        reverse("graceful_cancel_api:case-confirm", args=[body["reference"]]), {}, format="json"
    )
    answered = api.post(url, {}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "cancelled"
    assert api.post(url, {}, format="json").status_code == 200  # again: nothing more
    case = CancellationCase.objects.get(reference=body["reference"])
    assert case.events.filter(kind=EventKind.OFFER_QUESTION_DECLINED).count() == 1
    assert not services.offer_question_open(case)
