"""Outbound webhooks (issue 18): signed events written with the change, sent after it, in order
per case, retried with back-off, never in the customer's way.

Endpoints are real HTTP servers on 127.0.0.1 (tests/support/http.py); signatures are checked with
the ``standardwebhooks`` verifier a receiver would use.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook, WebhookVerificationError

from django_graceful_cancel import services, tasks
from django_graceful_cancel.choices import (
    CaseStatus,
    DeliveryStatus,
    EventKind,
    FollowUpStatus,
)
from django_graceful_cancel.models import (
    CancellationCase,
    FollowUp,
    OutboundDelivery,
    WebhookEndpoint,
    catalogue_cache,
)
from django_graceful_cancel.models.webhooks import new_webhook_secret, validate_webhook_secret
from django_graceful_cancel.services.core import record
from django_graceful_cancel.webhooks import events, outbox
from django_graceful_cancel.webhooks.tasks import CeleryDispatcher
from tests.support import free_port, gc_settings
from tests.support.http import LocalEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbound_settings(settings: Any) -> None:
    """Rows wait for the sweep unless a test says otherwise; follow-ups stay out of the way."""
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep")


@pytest.fixture
def endpoint() -> Iterator[LocalEndpoint]:
    with LocalEndpoint() as server:
        yield server


def subscribe(url: str, *types: str, active: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, event_types=list(types), active=active)


def verified(hook: WebhookEndpoint, received: Any) -> dict[str, Any]:
    """The payload, once the ``standardwebhooks`` verifier accepted the signature."""
    payload: dict[str, Any] = Webhook(hook.secret).verify(received.body, received.headers)
    return payload


def drain(limit: int = 50) -> None:
    """Sweep until nothing is claimable (retries due at once with a zero back-off)."""
    for _ in range(limit):
        if not outbox.sweep_deliveries():
            return
    pytest.fail("the sweep never ran dry")


def decline_and_cancel(customer: Any) -> CancellationCase:
    case, _ = services.start_case(customer)
    services.record_reason(case, "price", detail="Too dear for me, says Alice")
    assert services.present_offer(case) is not None
    services.decline_offer(case)
    return services.confirm_cancellation(case)


# --- each event, once, signed ------------------------------------------------------------------


def test_each_event_reaches_the_endpoint_once_with_a_valid_signature(
    endpoint, make_customer, catalogue, django_capture_on_commit_callbacks
):
    hook = subscribe(endpoint.url)
    alice, bob = make_customer("alice"), make_customer("bob")
    with django_capture_on_commit_callbacks(execute=True):
        leaving = decline_and_cancel(alice)
        services.reactivate(leaving)
        staying, _ = services.start_case(bob)
        services.record_reason(staying, "price")
        services.present_offer(staying)
        services.accept_offer(staying)
    assert endpoint.requests == []  # nothing leaves in the request: the sweep sends
    drain()

    received = endpoint.accepted()
    payloads = [verified(hook, r) for r in received]
    ids = [r.headers["webhook-id"] for r in received]
    assert len(ids) == len(set(ids))  # each event once
    by_case: dict[str, list[str]] = {}
    for payload in payloads:
        by_case.setdefault(payload["data"]["case"]["reference"], []).append(payload["type"])
    assert by_case[leaving.reference] == [
        "case.started",
        "case.reason_recorded",
        "offer.presented",
        "offer.declined",
        "case.cancelled",
        "case.reactivated",
    ]
    assert by_case[staying.reference] == [
        "case.started",
        "case.reason_recorded",
        "offer.presented",
        "offer.accepted",
        "case.saved",
    ]
    assert OutboundDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == len(ids)
    cancelled = next(p for p in payloads if p["type"] == "case.cancelled")
    assert cancelled["data"]["case"]["status"] == CaseStatus.CANCELLED
    assert cancelled["data"]["case"]["reason"] == "price"
    assert cancelled["data"]["event"]["effective_mode"] == "period_end"
    assert cancelled["data"]["event"]["effective_at"] == cancelled["data"]["case"]["effective_at"]
    assert cancelled["timestamp"].endswith("Z")
    assert received[0].headers["content-type"] == "application/json"


def test_a_wrong_secret_or_a_changed_body_fails_verification(
    endpoint, customer, catalogue, django_capture_on_commit_callbacks
):
    hook = subscribe(endpoint.url, "case.started")
    with django_capture_on_commit_callbacks(execute=True):
        services.start_case(customer)
    drain()
    (received,) = endpoint.accepted()
    assert verified(hook, received)["type"] == "case.started"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(received.body, received.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(hook.secret).verify(received.body.replace(b"started", b"stopped"), received.headers)


def test_the_event_id_stays_the_same_across_attempts_and_endpoints(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep", WEBHOOK_RETRY_BACKOFF_SECONDS=0
    )
    with LocalEndpoint(answers=[503]) as first, LocalEndpoint() as second:
        subscribe(first.url, "case.started")
        subscribe(second.url, "case.started")
        services.start_case(customer)
        drain()
        ids = {r.headers["webhook-id"] for r in [*first.requests, *second.requests]}
    assert len(first.requests) == 2 and len(second.requests) == 1
    assert len(ids) == 1 and ids.pop().startswith("msg_")


# --- what a payload may say --------------------------------------------------------------------


def payload_of(event_type: str) -> dict[str, Any]:
    row = OutboundDelivery.objects.filter(event_type=event_type).latest("pk")
    return row.payload


@pytest.mark.parametrize(
    ("level", "has_contact", "has_free_text"),
    [("none", False, False), ("contact", True, False), ("all", True, True)],
)
def test_payloads_carry_no_more_personal_data_than_the_setting_allows(
    settings, customer, catalogue, level, has_contact, has_free_text
):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep", WEBHOOK_PERSONAL_DATA=level
    )
    subscribe("https://crm.example.com/hook")
    case = decline_and_cancel(customer)
    services.answer_survey(case, score=3, comment="The app kept crashing")
    text = json.dumps([row.payload for row in OutboundDelivery.objects.all()])
    payload = payload_of("case.cancelled")
    assert payload["data"]["case"]["reference"] == case.reference
    assert payload["data"]["case"]["plan"] == "Standard"
    assert ("alice@example.com" in text) is has_contact
    assert ("customer" in payload["data"]) is has_contact
    assert ("Too dear for me" in text) is has_free_text
    assert ("kept crashing" in text) is has_free_text
    assert payload_of("survey.answered")["data"]["event"] == {"score": 3}
    if has_contact:
        assert payload["data"]["customer"]["email"] == "alice@example.com"
        assert payload["data"]["customer"]["id"] == str(customer.pk)


def test_a_staff_member_is_named_only_when_everything_may_be_sent(
    settings, customer, staff_user, catalogue
):
    subscribe("https://crm.example.com/hook", "case.cancelled")
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case, actor=staff_user)
    assert payload_of("case.cancelled")["data"]["actor"] == "staff"
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="sweep", WEBHOOK_PERSONAL_DATA="all")
    services.reactivate(case, actor=staff_user)
    services.confirm_cancellation(services.start_case(customer)[0], actor=staff_user)
    assert payload_of("case.cancelled")["data"]["actor"] == "staff:sam"


def test_erasing_the_customer_removes_personal_data_from_the_kept_payloads(
    settings, customer, staff_user, catalogue, django_capture_on_commit_callbacks
):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep", WEBHOOK_PERSONAL_DATA="all"
    )
    subscribe("https://crm.example.com/hook")
    decline_and_cancel(customer)
    assert "alice@example.com" in json.dumps(payload_of("case.cancelled"))
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_customer(customer, actor=staff_user)
    text = json.dumps([row.payload for row in OutboundDelivery.objects.all()])
    assert "alice@example.com" not in text and "Too dear" not in text
    assert payload_of("case.cancelled")["data"]["case"]["status"] == CaseStatus.CANCELLED


# --- the outbox: with the change, never without ------------------------------------------------


def test_a_rolled_back_change_writes_and_sends_nothing(
    endpoint, customer, catalogue, django_capture_on_commit_callbacks
):
    subscribe(endpoint.url)
    case, _ = services.start_case(customer)
    before = OutboundDelivery.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.record_reason(case, "price")
                # Written in the change's own transaction, not after it.
                assert OutboundDelivery.objects.count() == before + 1
                raise RuntimeError("the host's code fails later in the same transaction")
        except RuntimeError:
            pass
    assert OutboundDelivery.objects.count() == before
    assert callbacks == []


def test_endpoints_get_only_the_types_they_chose_and_inactive_ones_get_nothing(customer, catalogue):
    cancels = subscribe("https://a.example.com/", "case.cancelled")
    everything = subscribe("https://b.example.com/")
    subscribe("https://c.example.com/", active=False)
    decline_and_cancel(customer)
    assert list(
        OutboundDelivery.objects.filter(endpoint=cancels).values_list("event_type", flat=True)
    ) == ["case.cancelled"]
    assert OutboundDelivery.objects.filter(endpoint=everything).count() == 5
    assert set(OutboundDelivery.objects.values_list("endpoint", flat=True)) == {
        cancels.pk,
        everything.pk,
    }


def test_events_no_type_reads_cost_no_query(customer, staff_user, catalogue):
    subscribe("https://crm.example.com/hook")
    case, _ = services.start_case(customer)
    with CaptureQueriesContext(connection) as queries:
        record(case, EventKind.NOTE_ADDED, data={"note": 1})
    assert not [q for q in queries if "webhook" in q["sql"] or "outbound" in q["sql"]]
    assert not outbox.enqueue_for_event(case, case.events.get(kind=EventKind.NOTE_ADDED))


def test_followup_delivered_bounced_and_survey_answered_are_events(customer, catalogue):
    subscribe("https://crm.example.com/hook")
    case, _ = services.start_case(customer)
    services.record_reason(case, "price", contact_consent=True)
    services.confirm_cancellation(case)
    confirmation, thank_you = FollowUp.objects.filter(case=case).order_by("due_at")[:2]
    FollowUp.objects.filter(pk__in=[confirmation.pk, thank_you.pk]).update(
        status=FollowUpStatus.SENT
    )
    for row, kind in [(confirmation, "delivered"), (thank_you, "bounced")]:
        services.record_tracking_event(
            SimpleNamespace(
                event_type=kind,
                metadata={"followup": str(row.pk)},
                event_id=f"esp-{kind}",
                message_id=None,
                timestamp=None,
                esp_event=None,
                description="",
                mta_response="",
            ),
            esp_name="test",
        )
    services.answer_survey(case, score=9)
    assert payload_of("followup.delivered")["data"]["event"]["stage"] == confirmation.stage
    assert payload_of("followup.bounced")["data"]["event"]["status"] == "bounced"
    assert payload_of("survey.answered")["data"]["event"] == {"score": 9}


def test_declarations_received_and_disputed_are_events(settings, make_customer, catalogue):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep", COMPLIANCE_PROFILE="eu"
    )
    make_customer("dora")
    subscribe("https://crm.example.com/hook", "declaration.received", "declaration.disputed")
    declaration = services.declare_cancellation(
        name="Dora Declarant", email="dora@example.com", contract="dora"
    )
    received = payload_of("declaration.received")
    assert received["data"]["declaration"]["reference"] == declaration.reference
    assert received["data"]["declaration"]["matched"] is True
    assert "Dora" not in json.dumps(received) and "dora@" not in json.dumps(received)
    services.dispute_declaration(declaration)
    disputed = payload_of("declaration.disputed")
    assert disputed["data"]["declaration"]["status"] == "disputed"
    rows = OutboundDelivery.objects.filter(event_type__startswith="declaration.")
    assert {row.ordering_key for row in rows} == {f"case:{declaration.case_id}"}


# --- failure, back-off, order ------------------------------------------------------------------


def test_an_endpoint_that_fails_then_recovers_gets_every_event_once_in_order_per_case(
    settings, make_customer, catalogue
):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep", WEBHOOK_RETRY_BACKOFF_SECONDS=0
    )
    with LocalEndpoint(answers=[500, 502, 503, 500]) as server:
        hook = subscribe(server.url)
        first = decline_and_cancel(make_customer("first"))
        second, _ = services.start_case(make_customer("second"))
        services.record_reason(second, "price")
        third = decline_and_cancel(make_customer("third"))
        services.reactivate(first)
        drain()
        accepted = [verified(hook, r) for r in server.accepted()]
        failed = [r for r in server.requests if r.status and r.status >= 500]
        ids = [r.headers["webhook-id"] for r in server.accepted()]

    assert len(failed) == 4
    rows = OutboundDelivery.objects.order_by("pk")
    assert sorted(ids) == sorted(rows.values_list("event_id", flat=True))  # all, each once
    for case in (first, second, third):
        sent = [p["type"] for p in accepted if p["data"]["case"]["reference"] == case.reference]
        written = list(rows.filter(case=case).values_list("event_type", flat=True))
        assert sent == written, case.reference
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert max(rows.values_list("attempts", flat=True)) > 1


def test_a_failing_event_holds_back_the_later_events_of_its_case_only(
    settings, make_customer, catalogue
):
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep")
    with LocalEndpoint(answers=[500]) as server:
        subscribe(server.url, "case.started", "case.reason_recorded")
        stuck, _ = services.start_case(make_customer("stuck"))
        services.record_reason(stuck, "price")
        other, _ = services.start_case(make_customer("other"))
        outbox.sweep_deliveries()
        paths = [
            (r.status, json.loads(r.body)["data"]["case"]["reference"]) for r in server.requests
        ]
    assert paths == [(500, stuck.reference), (200, other.reference)]
    waiting = OutboundDelivery.objects.get(case=stuck, event_type="case.reason_recorded")
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 0)
    failed = OutboundDelivery.objects.get(case=stuck, event_type="case.started")
    assert failed.status == DeliveryStatus.PENDING and failed.response_code == 500
    assert "HTTP 500" in failed.last_error
    assert failed.due_at > timezone.now() + timedelta(seconds=50)


def test_back_off_doubles_and_attempts_are_bounded(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="sweep", WEBHOOK_MAX_ATTEMPTS=3, WEBHOOK_RETRY_BACKOFF_SECONDS=60
    )
    with LocalEndpoint(answers=[500] * 10) as server:
        subscribe(server.url, "case.started", "case.reason_recorded")
        case, _ = services.start_case(customer)
        services.record_reason(case, "price")
        row = OutboundDelivery.objects.get(event_type="case.started")
        waits = []
        with time_machine.travel(timezone.now(), tick=False) as clock:
            for _ in range(3):
                outbox.sweep_deliveries()
                row.refresh_from_db()
                waits.append(round((row.due_at - timezone.now()).total_seconds()))
                clock.shift(timedelta(hours=1))
            outbox.sweep_deliveries()
        started = [r for r in server.requests if b"case.started" in r.body]
    row.refresh_from_db()
    assert waits[:2] == [60, 120]
    assert (row.status, row.attempts, len(started)) == (DeliveryStatus.FAILED, 3, 3)
    # Once the first event gave up, the next one of the case is no longer held back.
    later = OutboundDelivery.objects.get(event_type="case.reason_recorded")
    assert later.attempts >= 1
    assert outbox.backoff(30) == outbox.MAX_BACKOFF_SECONDS


def test_a_dead_endpoint_times_out_and_is_retried(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="sweep", WEBHOOK_TIMEOUT_SECONDS=0.3)
    with LocalEndpoint(hang=True) as server:
        subscribe(server.url, "case.started")
        services.start_case(customer)
        outbox.sweep_deliveries()
    row = OutboundDelivery.objects.get()
    assert row.status == DeliveryStatus.PENDING and row.response_code is None
    assert "Timeout" in row.last_error


def test_a_refused_connection_is_retried(customer, catalogue):
    subscribe(f"http://127.0.0.1:{free_port()}/nobody-listens", "case.started")
    services.start_case(customer)
    outbox.sweep_deliveries()
    row = OutboundDelivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert "ConnectionError" in row.last_error


def test_a_redirect_is_not_followed(customer, catalogue):
    with LocalEndpoint(answers=[307]) as server:
        subscribe(server.url, "case.started")
        services.start_case(customer)
        outbox.sweep_deliveries()
    row = OutboundDelivery.objects.get()
    assert (row.status, row.response_code) == (DeliveryStatus.PENDING, 307)


def test_a_row_left_sending_by_a_dead_worker_is_sent_again_with_the_same_id(
    endpoint, customer, catalogue
):
    subscribe(endpoint.url, "case.started")
    services.start_case(customer)
    row = OutboundDelivery.objects.get()
    assert outbox.claim_delivery(row.pk)  # a worker claimed it, then died
    outbox.sweep_deliveries()
    assert endpoint.requests == []
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        outbox.sweep_deliveries()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 2
    assert [r.headers["webhook-id"] for r in endpoint.requests] == [row.event_id]


def test_an_inactive_endpoints_pending_rows_wait_for_it(endpoint, customer, catalogue):
    hook = subscribe(endpoint.url, "case.started")
    services.start_case(customer)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=False)
    outbox.sweep_deliveries()
    assert endpoint.requests == []
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=True)
    outbox.sweep_deliveries()
    assert len(endpoint.accepted()) == 1


def test_claiming_is_exclusive(customer, catalogue):
    subscribe("https://crm.example.com/hook", "case.started")
    services.start_case(customer)
    row = OutboundDelivery.objects.get()
    assert outbox.claim_delivery(row.pk)
    assert not outbox.claim_delivery(row.pk)
    assert outbox.claim_due(10) == []


# --- dispatch ----------------------------------------------------------------------------------


def test_the_celery_dispatcher_enqueues_after_the_commit_only(
    settings, customer, catalogue, django_capture_on_commit_callbacks
):
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="celery", FOLLOWUP_DISPATCH="sweep")
    subscribe("https://crm.example.com/hook", "case.started", "case.cancelled")
    with (
        mock.patch.object(tasks.send_outbound_delivery, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        case, _ = services.start_case(customer)
        services.confirm_cancellation(case)
        assert apply_async.call_count == 0  # nothing leaves before the commit
    pks = list(OutboundDelivery.objects.order_by("pk").values_list("pk", flat=True))
    assert [c.args[0] for c in apply_async.call_args_list] == [(pk,) for pk in pks]


def test_a_broker_that_is_down_leaves_the_rows_for_the_sweep(customer, catalogue):
    subscribe("https://crm.example.com/hook", "case.started")
    services.start_case(customer)
    row = OutboundDelivery.objects.get()
    with mock.patch.object(
        tasks.send_outbound_delivery, "apply_async", side_effect=OSError("no broker")
    ):
        CeleryDispatcher().dispatch([row.pk])  # logged, not raised
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING


def test_the_task_sends_and_enqueues_the_next_event_of_the_case(
    settings, endpoint, customer, catalogue
):
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="celery", FOLLOWUP_DISPATCH="sweep")
    subscribe(endpoint.url, "case.started", "case.reason_recorded")
    with mock.patch.object(tasks.send_outbound_delivery, "apply_async"):
        case, _ = services.start_case(customer)
        services.record_reason(case, "price")
    first, second = OutboundDelivery.objects.order_by("pk")
    with mock.patch.object(tasks.send_outbound_delivery, "apply_async") as apply_async:
        assert tasks.send_outbound_delivery.run(second.pk) == DeliveryStatus.PENDING  # waits
        assert tasks.send_outbound_delivery.run(first.pk) == DeliveryStatus.DELIVERED
    assert [c.args[0] for c in apply_async.call_args_list] == [(second.pk,)]
    assert tasks.send_outbound_delivery.run(second.pk) == DeliveryStatus.DELIVERED
    assert [json.loads(r.body)["type"] for r in endpoint.requests] == [
        "case.started",
        "case.reason_recorded",
    ]


def test_the_task_asks_celery_to_retry_after_the_back_off(customer, catalogue):
    subscribe(f"http://127.0.0.1:{free_port()}/", "case.started")
    services.start_case(customer)
    row = OutboundDelivery.objects.get()
    with (
        mock.patch.object(
            tasks.send_outbound_delivery, "retry", side_effect=RuntimeError("retry")
        ) as retry,
        pytest.raises(RuntimeError),
    ):
        tasks.send_outbound_delivery.run(row.pk)
    assert retry.call_args.kwargs == {"countdown": 60}


def test_inline_dispatch_is_one_attempt_bounded_by_its_timeout(
    settings, customer, catalogue, django_capture_on_commit_callbacks
):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="inline", FOLLOWUP_DISPATCH="sweep", WEBHOOK_INLINE_TIMEOUT_SECONDS=0.3
    )
    with LocalEndpoint(hang=True) as server:
        subscribe(server.url, "case.started", "case.reason_recorded")
        began = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            case, _ = services.start_case(customer)
        with django_capture_on_commit_callbacks(execute=True):
            services.record_reason(case, "price")
        elapsed = time.monotonic() - began
    assert elapsed < 5  # one bounded attempt (0.3 s), not the 10 s workers wait
    rows = list(OutboundDelivery.objects.order_by("pk"))
    assert [(r.status, r.attempts) for r in rows] == [
        (DeliveryStatus.PENDING, 1),
        (DeliveryStatus.PENDING, 0),  # held behind the first: in order
    ]


def test_inline_dispatch_sends_after_the_commit(
    settings, endpoint, customer, catalogue, django_capture_on_commit_callbacks
):
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="inline", FOLLOWUP_DISPATCH="sweep")
    subscribe(endpoint.url, "case.started", "case.cancelled")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        case, _ = services.start_case(customer)
        services.confirm_cancellation(case)
        assert endpoint.requests == []
    assert [json.loads(r.body)["type"] for r in endpoint.accepted()] == [
        "case.started",
        "case.cancelled",
    ]


def test_auto_dispatch_never_sends_inline(settings, customer, catalogue):
    from django_graceful_cancel.webhooks import dispatch

    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="auto")
    with mock.patch.object(dispatch, "celery_status") as status:
        status.return_value.can_deliver = False
        assert type(dispatch.get_dispatcher().chosen()).__name__ == "SweepDispatcher"  # type: ignore[attr-defined]
        status.return_value.can_deliver = True
        assert type(dispatch.get_dispatcher().chosen()).__name__ == "CeleryDispatcher"  # type: ignore[attr-defined]


# --- a dead endpoint never gets in the customer's way -------------------------------------------

WRITE = re.compile(r"^\s*INSERT INTO \"graceful_cancel_outbounddelivery\"", re.I)


def shape(sql: str) -> str:
    """A query without its values: the same statement for another customer looks the same."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', '"savepoint"', sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    return re.sub(r"\(\?(, \?)*\)", "(?)", sql)


def cancel_on_the_page(user: Any) -> Any:
    """A logged-in customer, and their one POST that starts and confirms the cancellation."""
    client = Client()
    client.force_login(user)
    return lambda: client.post(reverse("graceful_cancel:start"), {"action": "cancel"})


def cancel_through_the_api(user: Any) -> Any:
    """An authenticated API client, and its two calls: start a case, confirm it."""
    client = APIClient()
    client.force_authenticate(user)

    def call() -> Any:
        started = client.post(reverse("graceful_cancel_api:case-list"), {}, format="json")
        reference = started.json()["reference"]
        return client.post(
            reverse("graceful_cancel_api:case-confirm", args=[reference]), {}, format="json"
        )

    return call


@pytest.mark.parametrize("dispatch", ["celery", "default"])
@pytest.mark.parametrize("cancel", [cancel_on_the_page, cancel_through_the_api])
def test_a_dead_endpoint_leaves_customer_requests_unaffected(
    settings,
    make_customer,
    catalogue,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
    cancel,
    dispatch,
):
    keys = {"WEBHOOK_DISPATCH": dispatch} if dispatch != "default" else {}
    settings.GRACEFUL_CANCEL = gc_settings(FOLLOWUP_DISPATCH="sweep", **keys)
    cache.clear()  # API throttle counters

    def measure(request: Any) -> tuple[Any, list[str]]:
        """The response and the SQL of ``request``, its after-commit work included."""
        with (
            mock.patch.object(tasks.send_outbound_delivery, "apply_async") as apply_async,
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = request()
        measure.published = apply_async.call_count  # type: ignore[attr-defined]
        return response, [q["sql"] for q in queries]

    # The catalogue is cached once read (models/catalogue_cache.py): warm it first, and read the
    # endpoints again once one is added, as the first request after the change would.
    measure(cancel(make_customer("warm-up")))
    without, without_sql = measure(cancel(make_customer("before")))
    with LocalEndpoint(hang=True) as dead:
        subscribe(dead.url)  # every event type, and it never answers
        catalogue_cache.active_endpoints()
        request = cancel(make_customer("after"))
        began = time.monotonic()
        with_dead, with_sql = measure(request)
        elapsed = time.monotonic() - began
        assert dead.requests == []  # no network I/O in the request, nor after its commit
    assert with_dead.status_code == without.status_code
    assert elapsed < 10  # the endpoint hangs for 30 s; the request never waits for it
    if dispatch == "celery":
        assert measure.published >= 2  # type: ignore[attr-defined]  # handed to the workers

    added = Counter(shape(q) for q in with_sql) - Counter(shape(q) for q in without_sql)
    missing = Counter(shape(q) for q in without_sql) - Counter(shape(q) for q in with_sql)
    assert not missing
    assert all(WRITE.match(q) for q in added.elements()), list(added)
    inserts = sum(added.values())
    assert inserts >= 2  # case.started and case.cancelled at least
    request = cancel(make_customer("again"))
    with (
        mock.patch.object(tasks.send_outbound_delivery, "apply_async"),
        django_assert_num_queries(len(without_sql) + inserts),
        django_capture_on_commit_callbacks(execute=True),
    ):
        again = request()
    assert again.status_code == without.status_code


# --- the admin ---------------------------------------------------------------------------------


def test_staff_add_an_endpoint_choosing_event_types(superuser_client):
    response = superuser_client.get(reverse("admin:graceful_cancel_webhookendpoint_add"))
    assert response.status_code == 200
    assert "case.cancelled" in response.content.decode()
    response = superuser_client.post(
        reverse("admin:graceful_cancel_webhookendpoint_add"),
        {
            "url": "https://crm.example.com/hook",
            "description": "CRM",
            "event_types": ["case.cancelled", "case.saved"],
            "active": "on",
            "secret": new_webhook_secret(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hook = WebhookEndpoint.objects.get()
    assert hook.event_types == ["case.cancelled", "case.saved"]
    validate_webhook_secret(hook.secret)
    page = superuser_client.get(
        reverse("admin:graceful_cancel_webhookendpoint_change", args=[hook.pk])
    )
    assert page.status_code == 200 and hook.secret in page.content.decode()


def test_a_malformed_secret_is_refused(superuser_client):
    response = superuser_client.post(
        reverse("admin:graceful_cancel_webhookendpoint_add"),
        {"url": "https://crm.example.com/hook", "active": "on", "secret": "not-a-secret"},
    )
    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    assert "whsec_" in response.content.decode()


def test_rotating_the_secret(superuser_client):
    hook = subscribe("https://crm.example.com/hook")
    old = hook.secret
    superuser_client.post(
        reverse("admin:graceful_cancel_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [hook.pk]},
    )
    hook.refresh_from_db()
    assert hook.secret != old
    validate_webhook_secret(hook.secret)


def test_the_delivery_log_shows_status_code_attempts_and_error_and_sends_again(
    superuser_client, endpoint, settings, customer, catalogue
):
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="sweep", WEBHOOK_MAX_ATTEMPTS=1)
    endpoint.answers = [500]
    hook = subscribe(endpoint.url, "case.started")
    services.start_case(customer)
    outbox.sweep_deliveries()
    row = OutboundDelivery.objects.get()
    assert row.status == DeliveryStatus.FAILED

    log = superuser_client.get(reverse("admin:graceful_cancel_outbounddelivery_changelist"))
    html = log.content.decode()
    assert log.status_code == 200
    assert "case.started" in html and "500" in html and "Failed" in html
    detail = superuser_client.get(
        reverse("admin:graceful_cancel_outbounddelivery_change", args=[row.pk])
    )
    assert "simulated failure" in detail.content.decode()

    response = superuser_client.post(
        reverse("admin:graceful_cancel_outbounddelivery_changelist"),
        {"action": "send_again", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)
    assert "sent again by staff:boss" in row.last_error
    outbox.sweep_deliveries()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED
    first, second = endpoint.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row.event_id
    assert verified(hook, second)["type"] == "case.started"


def test_sending_again_needs_the_endpoint_change_permission(
    client, django_user_model, customer, catalogue
):
    subscribe("https://crm.example.com/hook", "case.started")
    services.start_case(customer)
    row = OutboundDelivery.objects.get()
    OutboundDelivery.objects.filter(pk=row.pk).update(status=DeliveryStatus.FAILED)
    reader = django_user_model.objects.create_user("reader", password="x", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_outbounddelivery"))
    client.force_login(reader)
    page = client.get(reverse("admin:graceful_cancel_outbounddelivery_changelist"))
    assert page.status_code == 200 and "send_again" not in page.content.decode()
    client.post(
        reverse("admin:graceful_cancel_outbounddelivery_changelist"),
        {"action": "send_again", "_selected_action": [row.pk]},
    )
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED


def test_the_send_command_sweeps(endpoint, customer, catalogue):
    from io import StringIO

    from django.core.management import call_command

    subscribe(endpoint.url, "case.started")
    services.start_case(customer)
    out = StringIO()
    call_command("graceful_cancel_send_webhooks", "--watch", "--interval", "0", stdout=out)
    assert "1 delivery attempt(s) made." in out.getvalue()
    assert len(endpoint.accepted()) == 1


def test_the_catalogue_lists_each_type_once_with_its_timeline_event():
    names = [t.name for t in events.EVENT_TYPES]
    assert len(names) == len(set(names))
    assert {t.kind for t in events.EVENT_TYPES if t.kind} <= set(EventKind.values)
    assert events.BY_NAME["case.returned"].kind == EventKind.RETURNED
