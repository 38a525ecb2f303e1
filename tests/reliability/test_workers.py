"""Real Celery workers on Redis and PostgreSQL: a worker killed in the middle of a batch, and
Redis stopped while customers confirm. Nothing is lost and nothing goes twice.

Workers run tests/reliability/worker_settings.py: every accepted send appends one line to a file
all processes share, so the test counts what really left, whichever process sent it.
PostgreSQL only (a worker cannot share SQLite in memory); Redis DB 7 of the shared server for the
kill test, and a private ``redis-server`` on port 6391 for the outage (the shared one on 6379
is never stopped).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from django_graceful_cancel import services, tasks
from django_graceful_cancel.choices import CaseStatus, FollowUpStatus
from django_graceful_cancel.models import CancellationCase, FollowUp
from tests.support import gc_settings, port_open, require_service
from tests.support.workers import due_confirmations, use_celery_broker

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

SHARED_BROKER = "redis://127.0.0.1:6379/7"
OWN_REDIS_PORT = 6391
OWN_BROKER = f"redis://127.0.0.1:{OWN_REDIS_PORT}/0"
SETTINGS = "tests.reliability.worker_settings"
# Polling limit on a shared two-core machine; progress, not speed, is what the tests check.
PATIENCE = 180


def wait_for(condition: Callable[[], bool], what: str, *, poll: float = 0.3) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    pytest.fail(f"timed out waiting for: {what}")


def sent_lines(log: Path) -> list[tuple[int, str]]:
    if not log.exists():
        return []
    return [
        (int(pk), stage) for pk, stage, _pid in (ln.split() for ln in log.read_text().splitlines())
    ]


@pytest.fixture
def shared_broker() -> Iterator[str]:
    require_service("Redis", port_open("127.0.0.1", 6379), "the shared Redis (DB 7)")
    # No flush: other runs may use DB 7 at the same time; each run has its own queue.
    use_celery_broker(SHARED_BROKER)
    yield SHARED_BROKER
    use_celery_broker("memory://")


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    celery_worker_factory, shared_broker, django_user_model, tmp_path
):
    total, crash_after = 400, 120
    pks = due_confirmations(django_user_model, total)
    log, marker = tmp_path / "sent.log", tmp_path / "crash"
    marker.touch()
    env = {
        "GC_SENT_LOG": str(log),
        "GC_CRASH_MARKER": str(marker),
        "GC_CRASH_AFTER": str(crash_after),
        "GC_SEND_DELAY": "0.005",
        "GC_SENDING_TIMEOUT_MINUTES": "0.05",  # a dead worker's claimed rows return after 3 s
    }
    # A queue of this run's own: another test run on the same Redis DB never takes its tasks.
    queue = f"gc-reliability-{os.getpid()}"

    def sweep() -> None:
        # Small batches: a batch is sent well within the 3-second "stale sending" timeout,
        # so the timeout only ever returns rows whose worker is really dead.
        tasks.sweep_followups.apply_async(
            kwargs={"batch_size": 5, "max_batches": 1000}, queue=queue
        )

    # One process, so the crash lands between two sends: a second process could be between
    # handing a message to the ESP and recording it, the one window where a message can go
    # twice (docs/followups.md).
    first = celery_worker_factory(
        shared_broker, settings=SETTINGS, concurrency=1, env=env, queues=queue
    )
    for _ in range(2):
        sweep()
    wait_for(lambda: not first.alive(), "the worker to crash")

    before = len(sent_lines(log))
    assert crash_after <= before < total
    stranded = FollowUp.objects.filter(status=FollowUpStatus.SENDING).count()
    assert stranded > 0, "the crash did not land in the middle of a claimed batch"

    celery_worker_factory(shared_broker, settings=SETTINGS, concurrency=2, env=env, queues=queue)

    def all_sent() -> bool:
        if not FollowUp.objects.exclude(status=FollowUpStatus.SENT).exists():
            return True
        sweep()  # what beat does
        time.sleep(1.5)
        return False

    wait_for(all_sent, "every row sent after the restart", poll=0)
    per_row = Counter(pk for pk, _ in sent_lines(log))
    assert set(per_row) == set(pks)
    assert set(per_row.values()) == {1}, "a message went out twice"
    assert FollowUp.objects.filter(status=FollowUpStatus.SENT).count() == total


class OwnRedis:
    """A private redis-server on 6391 (no persistence) the test can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(OWN_REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open("127.0.0.1", OWN_REDIS_PORT), "redis-server to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        wait_for(lambda: not port_open("127.0.0.1", OWN_REDIS_PORT), "redis-server to stop")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    require_service("redis-server", shutil.which("redis-server") is not None, "not installed")
    if port_open("127.0.0.1", OWN_REDIS_PORT):
        pytest.fail(f"port {OWN_REDIS_PORT} is taken: another test run's redis-server?")
    server = OwnRedis(tmp_path)
    server.start()
    use_celery_broker(OWN_BROKER)
    yield server
    use_celery_broker("memory://")
    server.stop()


DISPATCH_ON_CELERY = gc_settings(
    FOLLOWUP_DISPATCH="celery", FOLLOWUP_QUIET_HOURS=None, FOLLOWUP_MIN_INTERVAL_HOURS=0
)


@override_settings(GRACEFUL_CANCEL=DISPATCH_ON_CELERY)
def test_redis_stopped_while_customers_confirm(
    celery_worker_factory, own_redis, client, make_customer, catalogue, tmp_path
):
    log = tmp_path / "sent.log"
    celery_worker_factory(
        OWN_BROKER, settings=SETTINGS, concurrency=2, env={"GC_SENT_LOG": str(log)}
    )

    def confirm(user: Any) -> CancellationCase:
        client.force_login(user)
        case, _ = services.start_case(user)
        response = client.post(reverse("graceful_cancel:confirm", args=[case.reference]))
        assert response.status_code == 302, response.status_code
        assert response["Location"] == reverse("graceful_cancel:done", args=[case.reference])
        return CancellationCase.objects.get(pk=case.pk)

    # While Redis is up, the confirmation goes straight through the worker.
    first = confirm(make_customer("before"))
    first_row = FollowUp.objects.get(case=first, stage="confirmation")
    wait_for(lambda: (first_row.pk, "confirmation") in sent_lines(log), "the first confirmation")

    own_redis.stop()
    during = [confirm(make_customer(f"during{i}")) for i in range(5)]
    for case in during:
        assert case.status == CaseStatus.CANCELLED  # recorded, whatever the broker does
        row = FollowUp.objects.get(case=case, stage="confirmation")
        assert row.status == FollowUpStatus.SCHEDULED  # waiting in the outbox, not lost
    own_redis.start()

    rows = {FollowUp.objects.get(case=c, stage="confirmation").pk for c in during}

    def all_sent() -> bool:
        if not FollowUp.objects.filter(pk__in=rows).exclude(status=FollowUpStatus.SENT).exists():
            return True
        # What celery beat does every minute; the publisher may still be reconnecting.
        with contextlib.suppress(Exception):
            tasks.sweep_followups.delay()
        time.sleep(1)
        return False

    wait_for(all_sent, "the confirmations made during the outage", poll=0)
    per_row = Counter(pk for pk, stage in sent_lines(log) if stage == "confirmation")
    assert set(per_row) == rows | {first_row.pk}
    assert set(per_row.values()) == {1}
