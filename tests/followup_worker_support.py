"""A mail backend for the real-worker tests: every message a worker sends becomes one line in
the file named by FOLLOWUP_SENT_LOG ("<follow-up pk> <stage> <pid>"). Appends of one short
line are atomic, so four processes writing at once never interleave.

A file ``fail-<address>`` in FOLLOWUP_FAIL_DIR makes the next send to that address raise
anymail's API error once (the file is removed by whichever process sends first: exactly one
failure).

``due_confirmations`` builds a backlog for those tests (and the reliability worker tests).
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
