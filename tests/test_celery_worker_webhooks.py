"""Outbound webhooks with a real Celery worker process, on Redis and PostgreSQL.

Deliveries are enqueued on commit by the test process and sent by ``celery -A tests.celery_app
worker`` (two prefork processes, tests/settings_webhook_worker.py: a one-second back-off) to an
endpoint on 127.0.0.1 that fails, then recovers. Redis DB 12 is this module's alone, so another
run's workers never take its tasks. PostgreSQL only (a worker cannot share SQLite in memory).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from django_graceful_cancel import services
from django_graceful_cancel.choices import DeliveryStatus
from django_graceful_cancel.models import OutboundDelivery, WebhookEndpoint
from tests.support import gc_settings, port_open, require_service
from tests.support.http import LocalEndpoint
from tests.support.workers import use_celery_broker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

BROKER = "redis://127.0.0.1:6379/12"
PATIENCE = 180


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for: {what}")


@pytest.fixture
def broker() -> Iterator[str]:
    require_service("Redis", port_open("127.0.0.1", 6379), "the Celery broker (DB 12)")
    import redis

    redis.Redis.from_url(BROKER).flushdb()  # DB 12 is this module's: drop stale messages
    use_celery_broker(BROKER)
    yield BROKER
    use_celery_broker("memory://")


def test_a_real_worker_delivers_every_event_once_in_order_through_an_outage(
    celery_worker_factory, broker, settings, make_customer, catalogue
):
    settings.GRACEFUL_CANCEL = gc_settings(WEBHOOK_DISPATCH="celery", FOLLOWUP_DISPATCH="sweep")
    worker = celery_worker_factory(broker, settings="tests.settings_webhook_worker")
    with LocalEndpoint(answers=[500, 503, 502]) as server:
        hook = WebhookEndpoint.objects.create(url=server.url)
        cases = []
        for name in ("ana", "ben"):
            case, _ = services.start_case(make_customer(name))
            services.record_reason(case, "price")
            services.confirm_cancellation(case)
            cases.append(case)

        def all_delivered() -> bool:
            assert worker.alive(), worker.log()
            return not OutboundDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()

        wait_for(all_delivered, "every delivery")
        accepted = server.accepted()
        failures = [r for r in server.requests if r.status and r.status >= 500]

    payloads: list[dict[str, Any]] = [
        Webhook(hook.secret).verify(r.body, r.headers) for r in accepted
    ]
    ids = [r.headers["webhook-id"] for r in accepted]
    assert len(failures) == 3
    assert sorted(ids) == sorted(OutboundDelivery.objects.values_list("event_id", flat=True))
    for case in cases:
        sent = [p["type"] for p in payloads if p["data"]["case"]["reference"] == case.reference]
        written = list(
            OutboundDelivery.objects.filter(case=case)
            .order_by("pk")
            .values_list("event_type", flat=True)
        )
        assert sent == written == ["case.started", "case.reason_recorded", "case.cancelled"]
