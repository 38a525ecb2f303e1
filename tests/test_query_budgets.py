"""Query budgets of every customer step (issue 19), for the API and the pages, at two sizes.

Each step runs on a database holding a few cases, then again once the history has grown; its
query count must be the same at both sizes and within its budget. The counts are taken as
production sees them: the tests run outside a test transaction (``transaction=True``), so an
``atomic()`` block is a real transaction (BEGIN and COMMIT are not statements Django logs) and
only savepoints the code opens itself count. The API authenticates with a token, as the load
test's clients do (one query); the pages with a session (two).

The catalogue (reasons, offers, copy, experiments, webhook endpoints) is read from memory once
warm (models/catalogue_cache.py), so a first flow warms it before anything is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from django_graceful_cancel.choices import CaseStatus, EventKind
from django_graceful_cancel.models import CancellationCase, CaseEvent
from tests.support import gc_settings

pytestmark = [pytest.mark.django_db(transaction=True)]

#: The issue's goals: at most 1.3x the hand-written baseline's queries per API step (start 8,
#: reason 12, confirm 12). Where a step is over its goal, its budget is what it costs now, and
#: docs/performance.md gives the profile:
#: * start, 9: the subscription is read once (subscription, plan; the jurisdiction is resolved
#:   from that read), plus the "pending sync?" check, the webhook endpoints and the copy;
#: * confirm, 17: it declines the offer shown (its update and event), schedules the follow-ups
#:   and applies the cancellation at the provider after the commit (the model backend's own
#:   savepoint, a read and an update of the subscription; the case's sync mark and its event);
#: * reactivate, 15: the same provider sync.
#: Confirm and reactivate also read the case's answers to the follow-up questions for the
#: response (one query, the questions feature's field of the case).
API_BUDGET = {
    "start": 9,
    "reason": 12,
    "decline": 8,
    "confirm": 17,
    "accept": 12,
    "reactivate": 15,
}
#: A page step may cost at most this many queries more than its API step (its session is
#: two queries where a token is one, and it renders a page).
PAGE_SLACK = 2
SIZES = (10, 300)


@pytest.fixture(autouse=True)
def _setup(settings: Any, catalogue: None) -> None:
    settings.GRACEFUL_CANCEL = gc_settings()
    cache.clear()


def grow_history(make_customer: Callable[..., Any], total: int) -> None:
    """Bring the number of cases (of other customers, with their timelines) up to ``total``."""
    from django.contrib.auth import get_user_model

    missing = total - CancellationCase.objects.count()
    if missing <= 0:
        return
    user_model = get_user_model()
    first = user_model.objects.count()
    users = user_model.objects.bulk_create(
        user_model(username=f"history{first + i}", email=f"h{first + i}@example.com")
        for i in range(missing)
    )
    now = timezone.now()
    statuses = [CaseStatus.CANCELLED, CaseStatus.SAVED, CaseStatus.OPEN, CaseStatus.ABANDONED]
    cases = CancellationCase.objects.bulk_create(
        CancellationCase(
            customer=user,
            subscription_ref=f"history:{user.pk}",
            status=statuses[i % len(statuses)],
            plan="Standard",
            language="en",
            cancelled_at=now - timedelta(days=i % 90),
        )
        for i, user in enumerate(users)
    )
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, kind=EventKind.STARTED, actor_label="customer", data={})
        for case in cases
    )


def counted(call: Callable[[], Any], expect: tuple[int, ...]) -> int:
    """The statements ``call`` sends, BEGIN and COMMIT left out: SQLite's backend logs them,
    PostgreSQL's does not, and the budgets hold on both."""
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code in expect, (response.status_code, response.content[:400])
    return sum(1 for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT"))


def api_flow(make_customer: Callable[..., Any]) -> dict[str, int]:
    """Every API step: one customer goes start, reason, confirm (which declines the offer shown,
    as in the load test) and reactivate; one declines the offer; one accepts it."""

    def client() -> APIClient:
        api = APIClient()
        token = Token.objects.create(user=make_customer())
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    def post(api: APIClient, name: str, ref: str | None = None, **body: Any) -> Callable[[], Any]:
        url = reverse(f"graceful_cancel_api:{name}", args=[ref] if ref else [])
        return lambda: api.post(url, body, format="json")

    def started(api: APIClient) -> str:
        ref = api.post(reverse("graceful_cancel_api:case-list"), {}, format="json").json()
        reason = post(api, "case-reason", ref["reference"], reason="price")()
        assert reason.json()["offer"] is not None
        return str(ref["reference"])

    counts: dict[str, int] = {}
    api = client()
    holder: dict[str, Any] = {}

    def start() -> Any:
        holder["response"] = api.post(reverse("graceful_cancel_api:case-list"), {}, format="json")
        return holder["response"]

    counts["start"] = counted(start, (201,))
    ref = holder["response"].json()["reference"]
    counts["reason"] = counted(post(api, "case-reason", ref, reason="price", detail="dear"), (200,))
    counts["confirm"] = counted(post(api, "case-confirm", ref), (200,))
    counts["reactivate"] = counted(post(api, "case-reactivate", ref), (200,))
    api = client()
    counts["decline"] = counted(post(api, "case-decline-offer", started(api)), (200,))
    api = client()
    counts["accept"] = counted(post(api, "case-accept-offer", started(api)), (200,))
    return counts


def page_flow(make_customer: Callable[..., Any]) -> dict[str, int]:
    """The pages: start with a reason (the API's start and reason in one POST), confirm,
    reactivate; and a second customer who accepts."""
    counts: dict[str, int] = {}
    pages = Client()
    user = make_customer()
    pages.force_login(user)
    start = reverse("graceful_cancel:start")
    counts["start+reason"] = counted(
        lambda: pages.post(start, {"reason": "price", "detail": "dear", "action": "continue"}),
        (302,),
    )
    ref = CancellationCase.objects.get(customer=user, status=CaseStatus.OPEN).reference
    counts["confirm"] = counted(
        lambda: pages.post(reverse("graceful_cancel:confirm", args=[ref])), (302,)
    )
    counts["reactivate"] = counted(
        lambda: pages.post(reverse("graceful_cancel:reactivate", args=[ref])), (302,)
    )
    pages = Client()
    user = make_customer()
    pages.force_login(user)
    pages.post(start, {"reason": "price", "action": "continue"})
    ref = CancellationCase.objects.get(customer=user, status=CaseStatus.OPEN).reference
    counts["accept"] = counted(
        lambda: pages.post(reverse("graceful_cancel:accept", args=[ref])), (302,)
    )
    return counts


def test_api_steps_stay_within_budget_and_do_not_grow(make_customer):
    api_flow(make_customer)  # warms the cached catalogue
    by_size = {}
    for size in SIZES:
        grow_history(make_customer, size)
        by_size[size] = api_flow(make_customer)
    small, large = (by_size[size] for size in SIZES)
    assert small == large, by_size
    over = {step: (n, API_BUDGET[step]) for step, n in small.items() if n > API_BUDGET[step]}
    assert not over, f"over budget (count, budget): {over}; all: {small}"


def test_page_steps_stay_within_two_queries_of_the_api(make_customer):
    api_flow(make_customer)
    page_flow(make_customer)
    api = api_flow(make_customer)
    by_size = {}
    for size in SIZES:
        grow_history(make_customer, size)
        by_size[size] = page_flow(make_customer)
    small, large = (by_size[size] for size in SIZES)
    assert small == large, by_size
    # The page's start is the API's start and reason in one request (one session, not two).
    api_equivalent = {
        "start+reason": api["start"] + api["reason"] - 1,
        "confirm": api["confirm"],
        "reactivate": api["reactivate"],
        "accept": api["accept"],
    }
    over = {
        step: (n, api_equivalent[step] + PAGE_SLACK)
        for step, n in small.items()
        if n > api_equivalent[step] + PAGE_SLACK
    }
    assert not over, f"pages over their API step + {PAGE_SLACK}: {over}; api {api}"


def test_a_catalogue_change_is_seen_at_once(make_customer):
    """The cached catalogue forgets what staff change: a deactivated offer is never shown."""
    from django_graceful_cancel.models import RetentionOffer

    api_flow(make_customer)  # the offers are cached now
    RetentionOffer.objects.filter(reasons__slug="price").update(is_active=False)
    api = APIClient()
    api.force_authenticate(make_customer())
    ref = api.post(reverse("graceful_cancel_api:case-list"), {}, format="json").json()["reference"]
    body = api.post(
        reverse("graceful_cancel_api:case-reason", args=[ref]), {"reason": "price"}, format="json"
    ).json()
    assert body["offer"] is None
    offer = RetentionOffer.objects.filter(reasons__slug="price").first()
    offer.is_active = True
    offer.save()
    api.force_authenticate(make_customer())
    ref = api.post(reverse("graceful_cancel_api:case-list"), {}, format="json").json()["reference"]
    body = api.post(
        reverse("graceful_cancel_api:case-reason", args=[ref]), {"reason": "price"}, format="json"
    ).json()
    assert body["offer"]["slug"] == offer.slug


def test_the_reason_step_needs_no_lock_its_conditional_update_refuses_a_decided_case(
    make_customer,
):
    """The reason step takes no row lock (issue 19): the conditional UPDATE is its guarantee. A
    case read while open and cancelled before the answer arrives keeps no answer, and nothing
    else a concurrent change wrote is overwritten (only the answer's fields are written)."""
    from django_graceful_cancel import services
    from django_graceful_cancel.exceptions import InvalidTransition

    customer = make_customer()
    case, _created = services.start_case(customer)
    stale = CancellationCase.objects.get(pk=case.pk)  # read while open, as a page would
    services.confirm_cancellation(case)
    with pytest.raises(InvalidTransition):
        services.record_reason(stale, "price", detail="too dear")
    fresh = CancellationCase.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.CANCELLED
    assert fresh.reason_id is None and fresh.reason_detail == ""
    assert not fresh.events.filter(kind=EventKind.REASON_RECORDED).exists()

    # On an open case, an owner assigned meanwhile by staff stays (the old full-row save
    # would have written back the owner the page had read).
    other, _created = services.start_case(make_customer())
    page_copy = CancellationCase.objects.get(pk=other.pk)
    staff = make_customer(is_staff=True)
    services.assign_owner(other, staff, actor=staff)
    services.record_reason(page_copy, "price")
    fresh = CancellationCase.objects.get(pk=other.pk)
    assert fresh.owner_id == staff.pk and fresh.reason.slug == "price"


@pytest.mark.parametrize("action", ["continue", "cancel"])
def test_the_start_page_asks_the_backend_for_the_subscription_once(
    make_customer, monkeypatch, action
):
    """The page reads the subscription to show it and hands it to ``start_case`` (which would
    otherwise read it again: two queries on the model backend)."""
    from django_graceful_cancel.backends.model import ModelSubscriptionBackend

    calls: list[Any] = []
    original = ModelSubscriptionBackend.get_active_subscription

    def counting(self: Any, customer: Any) -> Any:
        calls.append(customer)
        return original(self, customer)

    monkeypatch.setattr(ModelSubscriptionBackend, "get_active_subscription", counting)
    pages = Client()
    user = make_customer()
    pages.force_login(user)
    response = pages.post(reverse("graceful_cancel:start"), {"action": action})
    assert response.status_code == 302
    assert CancellationCase.objects.filter(customer=user).exists()
    assert calls == [user]
