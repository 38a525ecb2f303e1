"""Real Celery workers for the tests: the app they run, the worker process handle, and their
mail backend.

``RecordingBackend`` is the worker's mail backend (tests/settings_followup_worker.py): every
message a worker sends becomes one line in the file named by FOLLOWUP_SENT_LOG ("<follow-up pk>
<stage> <pid>"). Appends of one short line are atomic, so four processes writing at once never
interleave. A file ``fail-<address>`` in FOLLOWUP_FAIL_DIR makes the next send to that address
raise anymail's API error once (the file is removed by whichever process sends first: exactly
one failure).

``due_confirmations`` builds a backlog for those tests (and the reliability worker tests).
Workers import this module as their mail backend as they start: keep its imports light.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from anymail.exceptions import AnymailRequestsAPIError
from django.core.mail.backends.base import BaseEmailBackend


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        log = os.environ["FOLLOWUP_SENT_LOG"]
        fail_dir = Path(os.environ["FOLLOWUP_FAIL_DIR"])
        for message in email_messages:
            metadata = getattr(message, "metadata", {}) or {}
            followup = metadata.get("followup", "?")
            try:
                (fail_dir / f"fail-{message.to[0]}").unlink()
            except FileNotFoundError:
                pass
            else:
                raise AnymailRequestsAPIError("simulated ESP outage (HTTP 503)", status_code=None)
            line = f"{followup} {metadata.get('stage', '?')} {os.getpid()}\n".encode()
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return len(email_messages)


def due_confirmations(
    user_model: Any, count: int, *, prefix: str = "w", batch_size: int | None = None
) -> list[int]:
    """``count`` cancelled cases, each with its confirmation due now (bulk, like a backlog);
    the follow-ups' primary keys. Customers are ``<prefix><i>`` at ``<prefix><i>@example.com``.
    ``batch_size`` bounds each INSERT for large backlogs (the sweep benchmark's 100,000 rows)."""
    # Imported here: this module is also a mail backend, loaded by workers as they start.
    from django.utils import timezone

    from django_graceful_cancel.choices import CaseStatus
    from django_graceful_cancel.models import CancellationCase, FollowUp

    users = user_model.objects.bulk_create(
        (
            user_model(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com")
            for i in range(count)
        ),
        batch_size=batch_size,
    )
    now = timezone.now()
    cases = CancellationCase.objects.bulk_create(
        (
            CancellationCase(
                customer=user,
                subscription_ref=f"bulk:{user.pk}",
                status=CaseStatus.CANCELLED,
                cancelled_at=now,
                closed_at=now,
                effective_at=now + timedelta(days=20),
                plan="Standard",
                language="en",
            )
            for user in users
        ),
        batch_size=batch_size,
    )
    rows = FollowUp.objects.bulk_create(
        (
            FollowUp(
                case=case,
                customer_id=case.customer_id,
                stage="confirmation",
                template="confirmation",
                channel="email",
                due_at=now - timedelta(minutes=1),
            )
            for case in cases
        ),
        batch_size=batch_size,
    )
    return [row.pk for row in rows]


#: The Celery app real workers run (``celery -A ...``): the test project's.
CELERY_APP = "tests.celery_app"


def use_celery_broker(url: str) -> None:
    """Point the test process's Celery app at ``url`` (publishing only; no worker runs here).

    Drops the cached connection and producer pools so the next publish uses the new URL.
    """
    from kombu import pools

    from tests.celery_app import app

    app.conf.broker_url = url
    pools.reset()  # kombu keeps one pool per URL in a global registry: start afresh
    app._pool = None
    app.amqp._producer_pool = None


class CeleryWorkerProcess:
    """A real ``celery -A tests.celery_app worker`` process group (conftest's
    ``celery_worker_factory``)."""

    def __init__(self, process: Any, output: Any, name: str) -> None:
        self.process = process
        self.output = output
        self.name = name

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the main process and its pool children at once: a crashed machine."""
        import signal

        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Warm shutdown (running tasks finish), then SIGKILL if it takes too long."""
        import signal
        import subprocess

        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
