"""The follow-up outbox with a real Celery worker process, on Redis and PostgreSQL.

A fixture starts ``celery -A tests.celery_app worker`` (four prefork processes) on
the TEST database and Redis DB 5, with tests/settings_followup_worker.py: its mail backend
appends one line per sent message to a file, so the test counts what really left, whichever
process sent it. PostgreSQL only (a worker cannot share SQLite in memory); `make test` runs it
in the PostgreSQL pass on CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from django_graceful_cancel import services, tasks
from django_graceful_cancel.choices import CaseStatus, EventKind, FollowUpStatus
from django_graceful_cancel.models import CancellationCase, FollowUp
from tests.support import gc_settings, port_open, require_service
from tests.support.workers import CELERY_APP, due_confirmations, use_celery_broker

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/5"
# Nothing listens on port 1: publishing fails at once, like a broker that is down.
DEAD_BROKER = "redis://127.0.0.1:1/5"
# Polling limit for the worker's progress; generous for a shared machine (not an assertion).
PATIENCE = 240


class Worker:
    def __init__(self, log: Path, fail_dir: Path) -> None:
        self.log = log
        self.fail_dir = fail_dir

    def count(self) -> int:
        return self.log.read_bytes().count(b"\n") if self.log.exists() else 0

    def sent(self) -> list[tuple[int, str, int]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [(int(pk), stage, int(pid)) for pk, stage, pid in (ln.split() for ln in lines)]

    def reset(self) -> None:
        self.log.unlink(missing_ok=True)
        for marker in self.fail_dir.glob("fail-*"):
            marker.unlink()

    def fail_once(self, address: str) -> None:
        (self.fail_dir / f"fail-{address}").touch()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"the worker did not get there: {what}")


@pytest.fixture(scope="module")
def worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Worker]:
    require_service("Redis", port_open("127.0.0.1", 6379), "the Celery broker (DB 5)")
    import redis

    redis.Redis.from_url(BROKER).flushdb()  # DB 5 is this suite's: drop stale messages
    tmp = Path(tempfile.mkdtemp(prefix="gc-followup-worker-"))
    fail_dir = tmp / "fail"
    fail_dir.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_followup_worker",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "FOLLOWUP_SENT_LOG": str(tmp / "sent.log"),
        "FOLLOWUP_FAIL_DIR": str(fail_dir),
        "PYTHONPATH": str(ROOT),
    }
    output = open(tmp / "worker.out", "w+b")  # noqa: SIM115
    node = f"gc-followups-{os.getpid()}@{socket.gethostname()}"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            CELERY_APP,
            "worker",
            "--concurrency=4",
            "--pool=prefork",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--prefetch-multiplier=1",
            "-n",
            node,
        ],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        from tests.celery_app import app

        use_celery_broker(BROKER)

        def ready() -> bool:
            if process.poll() is not None:
                output.seek(0)
                pytest.fail("the worker exited:\n" + output.read().decode(errors="replace"))
            return bool(app.control.ping(destination=[node], timeout=1))

        wait_for(ready, "start")
        yield Worker(tmp / "sent.log", fail_dir)
    finally:
        use_celery_broker("memory://")
        process.send_signal(signal.SIGTERM)  # warm shutdown: running tasks finish
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def fresh(worker: Worker) -> Worker:
    """The worker with an empty queue, nothing running and an empty send log."""
    import redis

    from tests.celery_app import app

    redis.Redis.from_url(BROKER).flushdb()

    def idle() -> bool:
        inspect = app.control.inspect(timeout=2)
        busy = [inspect.active() or {}, inspect.reserved() or {}]
        return bool(busy[0]) and not any(tasks_ for b in busy for tasks_ in b.values())

    wait_for(idle, "an idle worker")
    worker.reset()
    return worker


def statuses(case: CancellationCase) -> dict[str, str]:
    return dict(FollowUp.objects.filter(case=case).values_list("stage", "status"))


SHORT_DAYS = gc_settings(
    FOLLOWUP_SECONDS_PER_DAY=0.1,  # a 30-day sequence in 3 seconds
    FOLLOWUP_QUIET_HOURS=None,
    FOLLOWUP_MIN_INTERVAL_HOURS=0,
    FOLLOWUP_DISPATCH="celery",
)


@override_settings(GRACEFUL_CANCEL=SHORT_DAYS)
def test_a_confirmed_case_produces_exactly_its_sequence(
    fresh, customer, catalogue, transactional_db
):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price", contact_consent=True)
    services.confirm_cancellation(case)  # commits; the confirmation is enqueued on commit
    rows = dict(FollowUp.objects.filter(case=case).values_list("stage", "pk"))
    assert set(rows) == {"confirmation", "thank_you", "survey", "winback"}
    wait_for(lambda: any(pk == rows["confirmation"] for pk, _, _ in fresh.sent()), "confirmation")

    def all_sent() -> bool:
        if set(statuses(case).values()) == {FollowUpStatus.SENT}:
            return True
        tasks.sweep_followups.delay()  # what celery beat does every minute
        time.sleep(1)
        return False

    wait_for(all_sent, "the whole sequence")
    sent = fresh.sent()
    assert sorted((pk, stage) for pk, stage, _ in sent) == sorted(
        (pk, stage) for stage, pk in rows.items()
    )
    assert case.events.filter(kind=EventKind.MESSAGE_SENT).count() == 4


def test_four_concurrent_workers_send_ten_thousand_rows_exactly_once(
    fresh, transactional_db, django_user_model
):
    total = 10_000
    due_confirmations(django_user_model, total, prefix="bulk")
    for _ in range(8):  # more sweeps than processes: all four compete for the same rows
        tasks.sweep_followups.delay(batch_size=50, max_batches=1000)

    wait_for(lambda: fresh.count() >= total, "10,000 sends")

    def settled() -> bool:
        return not FollowUp.objects.filter(
            status__in=[FollowUpStatus.SCHEDULED, FollowUpStatus.SENDING]
        ).exists()

    wait_for(settled, "every row settled")
    sent = fresh.sent()
    per_row = Counter(pk for pk, _, _ in sent)
    assert len(sent) == total
    assert set(per_row.values()) == {1}
    assert set(per_row) == set(FollowUp.objects.values_list("pk", flat=True))
    assert FollowUp.objects.filter(status=FollowUpStatus.SENT, attempts=1).count() == total
    assert len({pid for _, _, pid in sent}) >= 2, "the rows were not shared between processes"


@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_DISPATCH="sweep"))
def test_a_transient_esp_error_retries_then_succeeds(fresh, customer, catalogue, transactional_db):
    fresh.fail_once(customer.email)  # the first send raises AnymailRequestsAPIError
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    confirmation = FollowUp.objects.get(case=case, stage="confirmation")
    tasks.send_followup.delay(confirmation.pk)

    def sent() -> bool:
        confirmation.refresh_from_db()
        return confirmation.status == FollowUpStatus.SENT

    wait_for(sent, "the retried send")
    assert confirmation.attempts == 2  # failed once, retried by the task after the backoff
    assert confirmation.last_error == ""
    assert [(pk, stage) for pk, stage, _ in fresh.sent()] == [(confirmation.pk, "confirmation")]
    assert not list(fresh.fail_dir.glob("fail-*"))  # the failure really happened
    assert case.events.filter(kind=EventKind.MESSAGE_SENT).count() == 1


@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_DISPATCH="celery"))
def test_a_broker_outage_at_confirm_time_loses_nothing(
    fresh, customer, catalogue, transactional_db
):
    use_celery_broker(DEAD_BROKER)
    try:
        case, _ = services.start_case(customer)
        case = services.confirm_cancellation(case)  # the enqueue on commit fails, quietly
    finally:
        use_celery_broker(BROKER)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    confirmation = FollowUp.objects.get(case=case, stage="confirmation")
    assert confirmation.status == FollowUpStatus.SCHEDULED
    assert fresh.sent() == []

    tasks.sweep_followups.delay()  # the next sweep, once the broker is back

    def sent() -> bool:
        confirmation.refresh_from_db()
        return confirmation.status == FollowUpStatus.SENT

    wait_for(sent, "the swept confirmation")
    assert [(pk, stage) for pk, stage, _ in fresh.sent()] == [(confirmation.pk, "confirmation")]
