"""The logic the two outboxes (``followups.outbox`` and ``webhooks.outbox``) share.

Each outbox owns its rows, its claim and its delivery; this module holds only the loops around
them, taking those as callables: the bounded sweep (``sweep_batches``), the hand-over of one row
to a task queue (``enqueue_task``, which never imports Celery: it is given the task) and the
``--watch`` / ``--forever`` loop of the send commands (``repeat_sweeps``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

logger = logging.getLogger("django_graceful_cancel")

#: A short publish retry: the web request waiting on a dead broker helps nobody.
PUBLISH_RETRY_POLICY: dict[str, float] = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}


def sweep_batches(
    *,
    batch_size: int,
    max_batches: int,
    release_stale: Callable[[], object],
    claim_due: Callable[..., list[int]],
    deliver: Callable[..., object],
    requeue_crashed: Callable[[int, datetime], None],
    label: str,
    prefetch: Callable[[list[int]], dict[int, Any]] | None = None,
) -> int:
    """Put back stale rows, then claim and deliver due rows in at most ``max_batches`` batches of
    ``batch_size``; returns how many rows were handled.

    ``claim_due(batch_size, now=claimed_at)`` claims rows, ``deliver(pk, claimed_at=claimed_at)``
    sends one; a row whose delivery raises is logged (as ``"<label> <pk> failed unexpectedly"``)
    and handed to ``requeue_crashed(pk, claimed_at)``, so one bad row never stops the sweep.

    ``prefetch(pks)``, when given, reads a claimed batch in one query (row by key), handed to
    ``deliver`` as ``loaded=``: one round trip per batch instead of one per row (issue 19). Each
    outcome is still recorded right after its own send: recording a batch's outcomes together
    would widen the one-message window in which a worker dying after a send sends it twice.
    """
    release_stale()
    handled = 0
    for _ in range(max_batches):
        claimed_at = timezone.now()
        pks = claim_due(batch_size, now=claimed_at)
        if not pks:
            break
        loaded = prefetch(pks) if prefetch is not None else None
        for pk in pks:
            try:
                if loaded is None:
                    deliver(pk, claimed_at=claimed_at)
                else:
                    deliver(pk, claimed_at=claimed_at, loaded=loaded.get(pk))
            except Exception:
                logger.exception("%s %s failed unexpectedly", label, pk)
                requeue_crashed(pk, claimed_at)
            handled += 1
    return handled


def enqueue_task(task: Any, pk: int, *, label: str) -> bool:
    """``task.apply_async((pk,))`` with a short publish retry; a broker failure is logged and
    returns False (the row waits for the sweep)."""
    try:
        task.apply_async((pk,), retry=True, retry_policy=dict(PUBLISH_RETRY_POLICY))
    except Exception as error:  # noqa: BLE001  (any broker failure: the sweep is the fallback)
        logger.warning("Could not enqueue %s %s (%s); the sweep will send it", label, pk, error)
        return False
    return True


def repeat_sweeps(
    sweep: Callable[[], int],
    *,
    watch: bool,
    forever: bool,
    interval: float,
    pending: Callable[[], bool],
) -> int:
    """Run ``sweep()`` once, or with ``watch`` until ``pending()`` is false, or with ``forever``
    until interrupted, sleeping ``interval`` seconds between runs; returns the sum of the runs."""
    total = 0
    while True:
        total += sweep()
        if not (watch or forever):
            break
        if not forever and not pending():
            break
        time.sleep(interval)
    return total
