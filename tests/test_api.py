"""The REST API: every endpoint, permission boundary and error, with constant query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.template import TemplateDoesNotExist
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from django_graceful_cancel import analytics, services
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome
from django_graceful_cancel.models import CancellationCase, Reason
from tests.support import gc_settings
from tests.testapp.models import Subscription

pytestmark = pytest.mark.django_db


def url(name: str, reference: str | None = None) -> str:
    args = [reference] if reference is not None else []
    return reverse(f"graceful_cancel_api:{name}", args=args)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    # Throttle counters live in the cache; user ids repeat across tests on a rolled-back database.
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alice(customer: Any, catalogue: None) -> APIClient:
    return as_user(customer)


@pytest.fixture
def viewer(django_user_model: Any) -> Any:
    """Staff with the app's view permission."""
    user = django_user_model.objects.create_user(
        username="viewer", email="viewer@example.com", password="x", is_staff=True
    )
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="graceful_cancel", codename="view_cancellationcase"
        )
    )
    return user


def start(client: APIClient, **body: Any) -> dict[str, Any]:
    response = client.post(url("case-list"), body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


# --- reasons -----------------------------------------------------------------------------------


def test_reasons_lists_the_active_catalogue_in_the_request_language(alice):
    Reason.objects.filter(slug="other").update(is_active=False)
    response = alice.get(url("reason-list"))
    assert response.status_code == 200
    body = response.json()
    slugs = [row["slug"] for row in body]
    assert "price" in slugs and "other" not in slugs
    price = next(row for row in body if row["slug"] == "price")
    assert set(price) == {"slug", "label", "category", "follow_up_question", "questions"}
    assert price["category"] == "price"
    spanish = alice.get(url("reason-list"), HTTP_ACCEPT_LANGUAGE="es").json()
    es_price = next(row for row in spanish if row["slug"] == "price")
    reason = Reason.objects.get(slug="price")
    assert es_price["label"] == reason.translations["es"]["label"] != price["label"]


def test_reasons_query_count_does_not_grow(alice, django_assert_num_queries):
    alice.get(url("reason-list"))  # loads the cached catalogue's questions, once per process
    with django_assert_num_queries(1):
        assert alice.get(url("reason-list")).status_code == 200


# --- start -------------------------------------------------------------------------------------


def test_start_creates_then_returns_the_open_case(alice, customer):
    first = alice.post(url("case-list"), {}, format="json")
    assert first.status_code == 201
    again = alice.post(url("case-list"), {"time_zone": "Europe/Madrid"}, format="json")
    assert again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]
    assert CancellationCase.objects.filter(customer=customer).count() == 1
    body = first.json()
    assert body["status"] == "open" and body["offer"] is None and body["reason"] is None
    assert set(body) >= {
        "reference",
        "status",
        "reason",
        "detail",
        "preferred_channel",
        "message",
        "offer",
        "effective_at",
        "created_at",
        "updated_at",
    }


def test_start_records_language_and_time_zone(alice, customer):
    alice.post(url("case-list"), {"language": "es", "time_zone": "Europe/Madrid"}, format="json")
    case = CancellationCase.objects.get(customer=customer)
    assert (case.language, case.time_zone) == ("es", "Europe/Madrid")


def test_start_without_subscription_is_a_409_with_a_code(make_customer, catalogue):
    client = as_user(make_customer("nosub", subscribed=False))
    response = client.post(url("case-list"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "no_active_subscription"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"language": "xx"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": 5}, "time_zone"),
    ],
)
def test_start_rejects_bad_input_with_field_errors(alice, body, field):
    response = alice.post(url("case-list"), body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert CancellationCase.objects.count() == 0


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "{not json"])
def test_a_body_that_is_not_an_object_is_a_400(alice, body):
    response = alice.post(url("case-list"), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()


def test_form_bodies_are_refused_with_415(alice):
    response = alice.post(url("case-list"), {"language": "en"})  # multipart
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("backend", "status"),
    [
        ("tests.support.backends.ProviderDown", 503),
        ("tests.support.backends.ProviderRefuses", 502),
    ],
)
def test_start_with_a_failing_provider_is_502_or_503_not_500(
    make_customer, catalogue, backend, status
):
    client = as_user(make_customer("unlucky"))
    with override_settings(GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=backend)):
        response = client.post(url("case-list"), {}, format="json")
    assert response.status_code == status
    assert response.json()["code"] == "backend_error"
    assert "internal" not in response.json()["detail"]


# --- reason ------------------------------------------------------------------------------------


def test_reason_records_and_returns_message_and_offer(alice, customer):
    ref = start(alice)["reference"]
    response = alice.post(
        url("case-reason", ref),
        {
            "reason": "price",
            "detail": "Too dear for me",
            "preferred_channel": "sms",
            "contact_consent": True,
            "contact_phone": "+34600000000",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reason"] == "price" and body["detail"] == "Too dear for me"
    assert body["preferred_channel"] == "sms" and body["contact_consent"] is True
    assert body["offer"]["slug"] == "discount-30-3m"
    assert body["offer"]["kind"] == "discount" and body["offer"]["outcome"] == "presented"
    assert body["offer"]["parameters"]
    assert body["message"].strip()
    case = CancellationCase.objects.get(reference=ref)
    assert case.reason.slug == "price" and case.contact_phone == "+34600000000"
    assert case.offer_presentation.outcome == OfferOutcome.PRESENTED


def test_reason_message_is_specific_to_the_reason(alice, make_customer):
    price = alice.post(
        url("case-reason", start(alice)["reference"]), {"reason": "price"}, format="json"
    )
    bob = as_user(make_customer("bob"))
    competitor = bob.post(
        url("case-reason", start(bob)["reference"]), {"reason": "competitor"}, format="json"
    )
    assert price.json()["message"] and competitor.json()["message"]
    assert price.json()["message"] != competitor.json()["message"]


def test_reason_without_offer_returns_null_offer(alice):
    ref = start(alice)["reference"]
    body = alice.post(url("case-reason", ref), {"reason": "business-closed"}, format="json").json()
    assert body["offer"] is None


def test_reason_can_be_skipped(alice):
    ref = start(alice)["reference"]
    response = alice.post(url("case-reason", ref), {"reason": None}, format="json")
    assert response.status_code == 200
    assert response.json()["reason"] is None and response.json()["offer"] is None


def test_message_is_empty_when_no_template_exists(alice, monkeypatch):
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise TemplateDoesNotExist("django_graceful_cancel/messages/flow_message/default_page.html")

    monkeypatch.setattr("django_graceful_cancel.rendering.render_message", missing)
    ref = start(alice)["reference"]
    response = alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    assert response.status_code == 200
    assert response.json()["message"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "no-such-reason"}, "reason"),
        ({"reason": ["price"]}, "reason"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"contact_consent": "perhaps"}, "contact_consent"),
        ({"detail": "x" * 5001}, "detail"),
        ({"reason": "price", "discount": 90}, "discount"),
    ],
)
def test_reason_rejects_bad_input_with_field_errors(alice, body, field):
    ref = start(alice)["reference"]
    response = alice.post(url("case-reason", ref), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert CancellationCase.objects.get(reference=ref).reason is None


def test_inactive_reason_is_unknown(alice):
    Reason.objects.filter(slug="price").update(is_active=False)
    ref = start(alice)["reference"]
    response = alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "phone"])
def test_a_phone_channel_with_consent_needs_a_number_as_on_the_page(alice, channel):
    """The reason step's rules are the service's: the API refuses what the page refuses."""
    ref = start(alice)["reference"]
    body = {"reason": "price", "preferred_channel": channel, "contact_consent": True}
    response = alice.post(url("case-reason", ref), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"contact_phone": ["Please give a phone number for this channel."]}
    case = CancellationCase.objects.get(reference=ref)
    assert (case.reason, case.contact_consent) == (None, False)
    assert not case.events.filter(kind=EventKind.REASON_RECORDED).exists()
    # Without consent no number is needed; the case's channel counts when the body omits it.
    response = alice.post(url("case-reason", ref), {**body, "contact_consent": False}, "json")
    assert response.status_code == 200 and response.json()["preferred_channel"] == channel
    response = alice.post(url("case-reason", ref), {"contact_consent": True}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["contact_phone"]


# --- offer, confirm, reactivate ----------------------------------------------------------------


def test_accept_offer_saves_the_case(alice):
    ref = start(alice)["reference"]
    alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    response = alice.post(url("case-accept-offer", ref), {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "saved"
    assert response.json()["offer"]["outcome"] == "accepted"
    again = alice.post(url("case-accept-offer", ref), format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "case_not_open"


def test_accept_without_offer_is_409_no_offer(alice):
    ref = start(alice)["reference"]
    response = alice.post(url("case-accept-offer", ref), format="json")
    assert response.status_code == 409
    assert response.json() == {"code": "no_offer", "detail": response.json()["detail"]}


@pytest.mark.parametrize(
    ("backend", "status"),
    [
        ("tests.support.backends.ProviderDown", 503),
        ("tests.support.backends.ProviderRefuses", 502),
    ],
)
def test_accept_with_a_failing_provider_changes_nothing(alice, backend, status):
    ref = start(alice)["reference"]
    alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    with override_settings(GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=backend)):
        response = alice.post(url("case-accept-offer", ref), format="json")
    assert response.status_code == status
    assert response.json()["code"] == "backend_error"
    assert "internal-host" not in response.json()["detail"]
    case = CancellationCase.objects.get(reference=ref)
    assert case.status == CaseStatus.OPEN
    assert case.offer_presentation.outcome == OfferOutcome.PRESENTED


def test_decline_then_confirm_then_reactivate(alice, customer):
    ref = start(alice)["reference"]
    alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    declined = alice.post(url("case-decline-offer", ref), format="json")
    assert declined.status_code == 200
    assert declined.json()["status"] == "open"
    assert declined.json()["offer"]["outcome"] == "declined"
    assert alice.post(url("case-decline-offer", ref), format="json").json()["code"] == (
        "offer_already_decided"
    )

    confirmed = alice.post(url("case-confirm", ref), {"effective": "period_end"}, format="json")
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "cancelled" and body["effective_mode"] == "period_end"
    assert body["effective_at"] and body["can_reactivate"] is True
    again = alice.post(url("case-confirm", ref), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "case_not_open")

    reactivated = alice.post(url("case-reactivate", ref), format="json")
    assert reactivated.status_code == 200
    assert reactivated.json()["status"] == "reactivated"
    twice = alice.post(url("case-reactivate", ref), format="json")
    assert (twice.status_code, twice.json()["code"]) == (409, "case_not_cancelled")
    kinds = list(CancellationCase.objects.get(reference=ref).events.values_list("kind", flat=True))
    assert kinds.count(EventKind.CANCELLED) == 1 and kinds.count(EventKind.REACTIVATED) == 1


def test_confirm_immediately_closes_the_reactivation_window(alice):
    ref = start(alice)["reference"]
    body = alice.post(url("case-confirm", ref), {"effective": "immediately"}, format="json").json()
    assert body["effective_mode"] == "immediately" and body["can_reactivate"] is False
    response = alice.post(url("case-reactivate", ref), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "reactivation_window_closed")


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("case-confirm", {"effective": "tomorrow"}, "effective"),
        ("case-confirm", {"reason": "price"}, "reason"),
        ("case-accept-offer", {"percent_off": 100}, "percent_off"),
        ("case-decline-offer", {"x": 1}, "x"),
        ("case-reactivate", {"now": True}, "now"),
    ],
)
def test_actions_reject_unknown_fields_and_bad_values(alice, name, body, field):
    ref = start(alice)["reference"]
    response = alice.post(url(name, ref), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert CancellationCase.objects.get(reference=ref).status == CaseStatus.OPEN


def test_reason_after_the_case_closed_is_409(alice):
    ref = start(alice)["reference"]
    alice.post(url("case-confirm", ref), format="json")
    response = alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "case_not_open")


# --- permissions -------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "reason-list", False),
    ("get", "case-list", False),
    ("post", "case-list", False),
    ("get", "case-detail", True),
    ("post", "case-reason", True),
    ("post", "case-accept-offer", True),
    ("post", "case-decline-offer", True),
    ("post", "case-confirm", True),
    ("post", "case-reactivate", True),
    ("get", "analytics-summary", False),
]


@pytest.mark.parametrize(("method", "name", "detail"), ENDPOINTS)
def test_anonymous_requests_are_refused(api, customer, catalogue, method, name, detail):
    case, _ = services.start_case(customer)
    response = getattr(api, method)(url(name, case.reference if detail else None), format="json")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.parametrize(("method", "name"), [(m, n) for m, n, detail in ENDPOINTS if detail])
def test_someone_elses_case_is_a_404_like_a_missing_one(alice, make_customer, viewer, method, name):
    other, _ = services.start_case(make_customer("bob"))
    services.record_reason(other, "price")
    services.present_offer(other)
    theirs = getattr(alice, method)(url(name, other.reference), {}, format="json")
    missing = getattr(alice, method)(url(name, "GC-0000-0000-0000"), {}, format="json")
    assert theirs.status_code == missing.status_code == 404
    assert (
        theirs.json() == missing.json() == {"code": "not_found", "detail": missing.json()["detail"]}
    )
    if method == "post":
        # Staff with the view permission read other cases but never act on them here.
        staff = getattr(as_user(viewer), method)(url(name, other.reference), {}, format="json")
        assert staff.status_code == 404
    other.refresh_from_db()
    assert other.status == CaseStatus.OPEN


def test_customers_list_only_their_own_cases(alice, customer, make_customer, staff_user):
    mine = start(alice)["reference"]
    services.start_case(make_customer("bob"))
    body = alice.get(url("case-list")).json()
    assert [row["reference"] for row in body["results"]] == [mine]
    assert body["count"] == 1
    # Staff without the app's view permission are customers like any other here.
    assert as_user(staff_user).get(url("case-list")).json()["count"] == 0


def test_staff_with_view_permission_see_all_cases_and_filter_them(
    viewer, make_customer, catalogue, staff_user
):
    alice_case, _ = services.start_case(make_customer("alice"))
    services.record_reason(alice_case, "price", preferred_channel="sms")
    bob_case, _ = services.start_case(make_customer("bob"))
    services.record_reason(bob_case, "competitor")
    services.confirm_cancellation(bob_case)
    carol_case, _ = services.start_case(make_customer("carol"))
    services.assign_owner(carol_case, staff_user, actor=staff_user)
    CancellationCase.objects.filter(pk=carol_case.pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    client = as_user(viewer)

    def refs(**params: Any) -> set[str]:
        response = client.get(url("case-list"), params)
        assert response.status_code == 200, response.content
        return {row["reference"] for row in response.json()["results"]}

    assert refs() == {alice_case.reference, bob_case.reference, carol_case.reference}
    assert refs(status="cancelled") == {bob_case.reference}
    assert refs(reason="price") == {alice_case.reference}
    assert refs(channel="sms") == {alice_case.reference}
    assert refs(owner=staff_user.pk) == {carol_case.reference}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert refs(created_after=since) == {alice_case.reference, bob_case.reference}
    assert refs(created_before=since) == {carol_case.reference}
    detail = client.get(url("case-detail", alice_case.reference))
    assert detail.status_code == 200 and detail.json()["reason"] == "price"


@pytest.mark.parametrize(
    "params",
    [
        {"status": "gone"},
        {"channel": "pigeon"},
        {"owner": "me"},
        {"created_after": "yesterday"},
        {"page": "0"},
        {"page_size": "1000"},
    ],
)
def test_bad_filters_are_400(viewer, params):
    response = as_user(viewer).get(url("case-list"), params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)


def _reopen(customer: Any) -> CancellationCase:
    """Cancel the customer's open case at once and resubscribe them: one more closed case."""
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case, effective="immediately")
    Subscription.objects.filter(user=customer).update(status="active")
    return case


def test_list_paginates(alice, customer):
    for _ in range(3):
        _reopen(customer)
    first = alice.get(url("case-list"), {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = alice.get(url("case-list"), {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1 and second["next"] is None
    beyond = alice.get(url("case-list"), {"page": 9})
    assert beyond.status_code == 404 and beyond.json()["code"] == "not_found"


# --- analytics ---------------------------------------------------------------------------------


def test_analytics_summary_for_staff_with_permission(viewer, make_customer, catalogue):
    saved, _ = services.start_case(make_customer("a"))
    services.record_reason(saved, "price")
    services.present_offer(saved)
    services.accept_offer(saved)
    cancelled, _ = services.start_case(make_customer("b"))
    services.confirm_cancellation(cancelled)
    response = as_user(viewer).get(url("analytics-summary"))
    assert response.status_code == 200
    body = response.json()
    # "mrr": the revenue on every reason (services/revenue.py, tested in test_revenue.py).
    assert {k: v for k, v in body.items() if k != "mrr"} == analytics.summary()
    assert body["mrr"]["cases"] == body["total"]
    assert body["by_status"]["saved"] == 1 and body["by_status"]["cancelled"] == 1
    assert body["save_rate"] == 0.5
    assert body["offers"]["accepted"] == 1
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert as_user(viewer).get(url("analytics-summary"), {"start": future}).json()["total"] == 0


def test_analytics_refused_to_customers_and_plain_staff(alice, staff_user):
    assert alice.get(url("analytics-summary")).status_code == 403
    response = as_user(staff_user).get(url("analytics-summary"))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_analytics_bad_dates_are_400(viewer):
    response = as_user(viewer).get(url("analytics-summary"), {"end": "soon"})
    assert response.status_code == 400
    assert "end" in response.json()


# --- authentication as the example project configures it ---------------------------------------


def test_token_authentication_works(customer, catalogue):
    token = Token.objects.create(user=customer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.post(url("case-list"), {}, format="json").status_code == 201
    assert client.get(url("case-list")).json()["count"] == 1
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    bad = client.get(url("case-list"))
    assert bad.status_code in (401, 403) and bad.json()["code"] == "authentication_failed"


def test_session_authentication_works_and_enforces_csrf(customer, catalogue):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="alice", password="demo")
    assert client.get(url("case-list")).status_code == 200
    refused = client.post(url("case-list"), {}, format="json")
    assert refused.status_code == 403
    assert CancellationCase.objects.count() == 0
    client.get(reverse("login"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(url("case-list"), {}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


# --- throttling --------------------------------------------------------------------------------


def test_write_endpoints_are_throttled_through_drf_rates(alice, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"graceful_cancel_write": "2/min"},
    }
    assert alice.post(url("case-list"), {}, format="json").status_code == 201
    assert alice.post(url("case-list"), {}, format="json").status_code == 200
    throttled = alice.post(url("case-list"), {}, format="json")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert "Retry-After" in throttled
    # Reads are not counted.
    for _ in range(3):
        assert alice.get(url("case-list")).status_code == 200


def test_write_throttle_rate_from_app_settings_and_off(alice):
    with override_settings(GRACEFUL_CANCEL=gc_settings(API_WRITE_THROTTLE_RATE="1/min")):
        assert alice.post(url("case-list"), {}, format="json").status_code == 201
        assert alice.post(url("case-list"), {}, format="json").status_code == 429
    cache.clear()
    with override_settings(GRACEFUL_CANCEL=gc_settings(API_WRITE_THROTTLE_RATE=None)):
        for _ in range(5):
            assert alice.post(url("case-list"), {}, format="json").status_code == 200


# --- unknown paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["cases/a/b/reason/", "cases/X/unknown/", "cases/X/reason"])
def test_unknown_paths_under_the_api_are_json_404(alice, path):
    response = alice.post("/api/cancel/" + path, {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- query counts ------------------------------------------------------------------------------


def _fill(make_customer: Any, count: int) -> None:
    for _ in range(count):
        case, _ = services.start_case(make_customer())
        services.record_reason(case, "price")
        services.present_offer(case)


def _fresh(user: Any) -> APIClient:
    # A fresh user object each time: Django caches permissions on the instance.
    return as_user(type(user).objects.get(pk=user.pk))


def test_staff_list_query_count_is_constant(
    viewer, make_customer, catalogue, django_assert_num_queries
):
    _fill(make_customer, 1)
    client = _fresh(viewer)
    with django_assert_num_queries(4):  # permissions (2), count, page
        assert client.get(url("case-list")).json()["count"] == 1
    _fill(make_customer, 12)
    client = _fresh(viewer)
    with django_assert_num_queries(4):
        assert client.get(url("case-list")).json()["count"] == 13


def test_customer_list_and_detail_query_counts_are_constant(
    customer, make_customer, catalogue, django_assert_num_queries
):
    client = as_user(customer)
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    with django_assert_num_queries(2):  # count, page
        assert client.get(url("case-list")).json()["count"] == 1
    client.get(url("case-detail", case.reference))  # loads the cached catalogue's copy
    # The case (its copy comes from the cached catalogue) and its answers to the reason's
    # follow-up questions ("price" has some; a reason without costs no query: test_questions).
    with django_assert_num_queries(2):
        assert client.get(url("case-detail", case.reference)).status_code == 200
    for _ in range(12):
        _reopen(customer)
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    _fill(make_customer, 5)
    with django_assert_num_queries(2):
        assert client.get(url("case-list")).json()["count"] == 13
    with django_assert_num_queries(2):
        assert client.get(url("case-detail", case.reference)).status_code == 200


# --- settings ----------------------------------------------------------------------------------


def test_system_checks_validate_the_api_settings(settings):
    from django_graceful_cancel.checks import check_settings

    def errors_for(key: str) -> list[str]:
        return [e.id for e in check_settings() if key in e.msg]

    settings.GRACEFUL_CANCEL = gc_settings(API_WRITE_THROTTLE_RATE="30/min")
    assert errors_for("API_WRITE_THROTTLE_RATE") == []
    settings.GRACEFUL_CANCEL = gc_settings(
        API_WRITE_THROTTLE_RATE=None, IDEMPOTENCY_KEY_TTL_HOURS=1
    )
    assert errors_for("API_WRITE_THROTTLE_RATE") == errors_for("IDEMPOTENCY_KEY_TTL_HOURS") == []
    settings.GRACEFUL_CANCEL = gc_settings(
        API_WRITE_THROTTLE_RATE="fast", IDEMPOTENCY_KEY_TTL_HOURS=0
    )
    assert errors_for("API_WRITE_THROTTLE_RATE") == ["graceful_cancel.E003"]
    assert errors_for("IDEMPOTENCY_KEY_TTL_HOURS") == ["graceful_cancel.E003"]


def test_the_api_mounted_at_the_root_leaves_the_hosts_other_urls_alone(customer, settings):
    settings.ROOT_URLCONF = "tests.test_api"
    client = APIClient()
    client.force_login(customer)
    assert client.get("/host-page/").content == b"host"


def _host_page(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("host")


# A host mounting the API at its root, before its own URLs.
from django.urls import include, path  # noqa: E402

urlpatterns = [
    path("", include("django_graceful_cancel.api.urls")),
    path("host-page/", _host_page),
]


# --- what the pages show: who applies an offer, and the case's compliance rules -----------------


def test_a_staff_routed_offer_carries_its_promise_before_and_after_accepting(alice):
    ref = start(alice)["reference"]
    offer = alice.post(url("case-reason", ref), {"reason": "price"}, format="json").json()["offer"]
    assert offer["slug"] == "discount-30-3m"
    assert offer["fulfilment"] == {
        "by": "staff",
        "due_business_days": 2,
        "due_at": None,
        "message": "If you accept, our team applies it for you within 2 business days.",
    }
    saved = alice.post(url("case-accept-offer", ref), {}, format="json").json()
    promise = saved["offer"]["fulfilment"]
    assert promise["by"] == "staff" and promise["due_business_days"] == 2
    assert promise["due_at"] is not None
    assert promise["message"].startswith(
        "Our team applies this offer for you within 2 business days, by "
    )


def test_an_accepted_offer_without_a_stored_date_says_what_the_saved_page_says(alice):
    ref = start(alice)["reference"]
    alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    alice.post(url("case-accept-offer", ref), {}, format="json")
    presentation = CancellationCase.objects.get(reference=ref).offer_presentation
    presentation.applied = {"kind": "discount", "applied_by": "staff"}
    presentation.save(update_fields=["applied"])
    promise = alice.get(url("case-detail", ref)).json()["offer"]["fulfilment"]
    assert promise["due_at"] is None
    assert promise["message"] == (
        "Our team applies this offer for you in the next few days. You don't need to do anything."
    )


def test_a_declined_offer_promises_nothing(alice):
    ref = start(alice)["reference"]
    alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    declined = alice.post(url("case-decline-offer", ref), {}, format="json").json()
    assert declined["offer"]["outcome"] == "declined" and declined["offer"]["fulfilment"] is None


def test_a_default_case_carries_the_default_rules(alice):
    body = start(alice)
    assert body["rules"] == {
        "profile": "us",  # called "default" before 0.2
        "offers": True,
        "offer_after_confirm": False,
        "survey_first": True,
        "declaration_page": False,
        "heading": "Cancel your subscription",
        "confirm_label": "Cancel my subscription",
        "statutory_labels": False,
        "withdrawal_function": False,
        "legal_reference": "Cal. Bus. & Prof. Code § 17602 (AB 2863)",
        "questions": True,
    }
    # The heading in the request's language, as the page shows it.
    spanish = alice.get(url("case-detail", body["reference"]), HTTP_ACCEPT_LANGUAGE="es").json()
    assert spanish["rules"]["heading"] == "Cancela tu suscripción"


@pytest.mark.parametrize(
    ("profile", "declaration_page", "heading"),
    [("eu", True, "Cancel contracts here"), ("fr", False, "Cancel your contract")],
)
def test_an_eu_or_fr_case_carries_its_rules_and_no_offer(
    alice, settings, profile, declaration_page, heading
):
    settings.GRACEFUL_CANCEL = gc_settings(COMPLIANCE_PROFILE=profile)
    ref = start(alice)["reference"]
    body = alice.post(url("case-reason", ref), {"reason": "price"}, format="json").json()
    assert body["offer"] is None
    rules = body["rules"]
    assert {k: rules[k] for k in ("profile", "offers", "survey_first", "declaration_page")} == {
        "profile": profile,
        "offers": False,
        "survey_first": False,
        "declaration_page": declaration_page,
    }
    assert rules["heading"] == heading
    # The case keeps the rules it started under when the site's profile changes.
    settings.GRACEFUL_CANCEL = gc_settings()
    assert alice.get(url("case-detail", ref)).json()["rules"]["profile"] == profile
    listed = alice.get(url("case-list")).json()["results"][0]
    assert listed["rules"]["survey_first"] is False


@pytest.mark.parametrize(("profile", "survey_first"), [("default", True), ("fr", False)])
def test_rules_say_what_a_new_case_follows_before_it_starts(alice, settings, profile, survey_first):
    settings.GRACEFUL_CANCEL = gc_settings(COMPLIANCE_PROFILE=profile)
    response = alice.get(url("rules"))
    assert response.status_code == 200
    assert response.json()["profile"] == {"default": "us"}.get(profile, profile)
    assert response.json()["survey_first"] is survey_first
    assert not CancellationCase.objects.exists()  # reading the rules starts nothing


def test_rules_need_a_signed_in_customer(api):
    assert api.get(url("rules")).status_code in (401, 403)
