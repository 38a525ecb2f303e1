"""Idempotency-Key on the API's POSTs: a retry returns the first response, never acts twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from django_graceful_cancel import services
from django_graceful_cancel.choices import EventKind
from django_graceful_cancel.models import CancellationCase, IdempotencyKey
from tests.support import gc_settings

pytestmark = pytest.mark.django_db


def url(name: str, reference: str | None = None) -> str:
    return reverse(f"graceful_cancel_api:{name}", args=[reference] if reference else [])


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alice(customer: Any, catalogue: None) -> APIClient:
    return as_user(customer)


def post(client: APIClient, path: str, body: dict[str, Any] | None = None, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body or {}, format="json", **headers)


def test_same_key_returns_the_first_response_without_acting_twice(alice, customer):
    first = post(alice, url("case-list"), key="start-1")
    assert first.status_code == 201
    second = post(alice, url("case-list"), key="start-1")
    assert second.status_code == 201  # the first status, not the 200 a new request would get
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert CancellationCase.objects.filter(customer=customer).count() == 1


def test_confirm_retried_with_the_key_confirms_once(alice):
    ref = post(alice, url("case-list")).json()["reference"]
    first = post(alice, url("case-confirm", ref), {"effective": "period_end"}, key="confirm-abc")
    retry = post(alice, url("case-confirm", ref), {"effective": "period_end"}, key="confirm-abc")
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    events = CancellationCase.objects.get(reference=ref).events.filter(kind=EventKind.CANCELLED)
    assert events.count() == 1
    # Without the key, the same request is a new one, and the domain refuses it.
    again = post(alice, url("case-confirm", ref), {"effective": "period_end"})
    assert (again.status_code, again.json()["code"]) == (409, "case_not_open")


def test_same_key_with_a_different_request_is_409(alice):
    ref = post(alice, url("case-list")).json()["reference"]
    assert post(alice, url("case-reason", ref), {"reason": "price"}, key="k1").status_code == 200
    other_body = post(alice, url("case-reason", ref), {"reason": "quality"}, key="k1")
    assert other_body.status_code == 409
    assert other_body.json()["code"] == "idempotency_key_reused"
    other_path = post(alice, url("case-confirm", ref), {"reason": "price"}, key="k1")
    assert other_path.status_code == 409
    assert other_path.json()["code"] == "idempotency_key_reused"
    case = CancellationCase.objects.get(reference=ref)
    assert case.reason.slug == "price" and case.status == "open"


def test_keys_are_per_customer(alice, customer, make_customer, catalogue):
    bob = as_user(make_customer("bob"))
    mine = post(alice, url("case-list"), key="shared-key")
    theirs = post(bob, url("case-list"), key="shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["reference"] != theirs.json()["reference"]
    assert IdempotencyKey.objects.filter(key="shared-key").count() == 2


def test_error_answers_are_replayed_too(alice):
    ref = post(alice, url("case-list")).json()["reference"]
    first = post(alice, url("case-accept-offer", ref), key="accept-1")
    assert (first.status_code, first.json()["code"]) == (409, "no_offer")
    # The case changes meanwhile; the retry still gets the first answer.
    alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    retry = post(alice, url("case-accept-offer", ref), key="accept-1")
    assert (retry.status_code, retry.json()) == (409, first.json())
    assert CancellationCase.objects.get(reference=ref).status == "open"


def test_provider_outages_are_not_stored_so_a_retry_runs_again(alice):
    ref = post(alice, url("case-list")).json()["reference"]
    alice.post(url("case-reason", ref), {"reason": "price"}, format="json")
    down = "tests.support.backends.ProviderDown"
    with override_settings(GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=down)):
        assert post(alice, url("case-accept-offer", ref), key="acc").status_code == 503
    assert not IdempotencyKey.objects.filter(key="acc").exists()
    retry = post(alice, url("case-accept-offer", ref), key="acc")
    assert retry.status_code == 200 and retry.json()["status"] == "saved"


def test_expired_keys_run_again(alice, customer):
    first = post(alice, url("case-list"), key="old")
    IdempotencyKey.objects.filter(key="old").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    again = post(alice, url("case-list"), key="old")
    assert again.status_code == 200  # a new request: the case was already open
    assert again.json()["reference"] == first.json()["reference"]
    assert "Idempotent-Replayed" not in again
    record = IdempotencyKey.objects.get(customer=customer, key="old")
    assert record.status_code == 200 and record.expires_at > timezone.now()


def test_ttl_comes_from_settings(alice, customer):
    with override_settings(GRACEFUL_CANCEL=gc_settings(IDEMPOTENCY_KEY_TTL_HOURS=2)):
        post(alice, url("case-list"), key="ttl")
    record = IdempotencyKey.objects.get(customer=customer, key="ttl")
    lifetime = record.expires_at - record.created_at
    assert timedelta(hours=1, minutes=59) < lifetime <= timedelta(hours=2)


def test_a_request_still_running_gets_409(alice, customer):
    ref = post(alice, url("case-list")).json()["reference"]
    path = url("case-confirm", ref)
    IdempotencyKey.objects.create(
        customer=customer,
        key="busy",
        fingerprint=_fingerprint_of(alice, path, {}),
        method="POST",
        path=path,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    response = post(alice, path, key="busy")
    assert (response.status_code, response.json()["code"]) == (
        409,
        "idempotency_request_in_progress",
    )
    assert CancellationCase.objects.get(reference=ref).status == "open"


def _fingerprint_of(client: APIClient, path: str, body: dict[str, Any]) -> str:
    from rest_framework.parsers import JSONParser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from django_graceful_cancel.api.idempotency import _fingerprint

    raw = APIRequestFactory().post(path, body, format="json")
    return _fingerprint(Request(raw, parsers=[JSONParser()]))


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_bad_keys_are_400(alice, key):
    response = post(alice, url("case-list"), key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert CancellationCase.objects.count() == 0


def test_purge_expired_keys(alice, customer, make_customer, catalogue):
    from django_graceful_cancel.api.idempotency import purge_expired_keys

    post(alice, url("case-list"), key="fresh")
    post(as_user(make_customer("bob")), url("case-list"), key="stale")
    IdempotencyKey.objects.filter(key="stale").update(expires_at=timezone.now())
    assert purge_expired_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_act_once(make_customer, catalogue):
    """Four copies of one keyed confirm at the same moment: one confirms, the others replay its
    answer or are told it is still running; none gets the domain's "case_not_open"."""
    import threading

    from django.db import connection

    user = make_customer("racer")
    case, _ = services.start_case(user)
    path = url("case-confirm", case.reference)
    barrier = threading.Barrier(4)
    answers: list[tuple[int, str]] = []

    def hit() -> None:
        try:
            client = as_user(user)
            barrier.wait()
            response = post(client, path, {"effective": "period_end"}, key="same-confirm")
            answers.append((response.status_code, response.json().get("code", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert {code for status, code in answers if status != 200} <= {
        "idempotency_request_in_progress"
    }, answers
    assert any(status == 200 for status, _ in answers)
    case.refresh_from_db()
    assert case.status == "cancelled"
    assert case.events.filter(kind=EventKind.CANCELLED).count() == 1
