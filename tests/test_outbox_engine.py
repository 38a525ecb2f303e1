"""The loops the follow-up and webhook outboxes share (``services/outbox.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from unittest import mock

from django_graceful_cancel.services import outbox as engine


def test_the_sweep_is_bounded_and_a_crashing_row_is_requeued_without_stopping_it() -> None:
    batches = [[1, 2], [3], [4]]
    released: list[bool] = []
    delivered: list[int] = []
    requeued: list[tuple[int, datetime]] = []

    def deliver(pk: int, *, claimed_at: datetime) -> None:
        if pk == 2:
            raise RuntimeError("boom")
        delivered.append(pk)

    handled = engine.sweep_batches(
        batch_size=2,
        max_batches=2,
        release_stale=lambda: released.append(True),
        claim_due=lambda size, now: batches.pop(0)[:size],
        deliver=deliver,
        requeue_crashed=lambda pk, claimed_at: requeued.append((pk, claimed_at)),
        label="Row",
    )
    assert handled == 3  # two batches only: row 4 waits for the next sweep
    assert released == [True]
    assert delivered == [1, 3]
    assert [pk for pk, _ in requeued] == [2]
    assert batches == [[4]]


def test_the_sweep_stops_when_nothing_is_due() -> None:
    claims: list[int] = []

    def claim_due(size: int, now: datetime) -> list[int]:
        claims.append(size)
        return []

    handled = engine.sweep_batches(
        batch_size=5,
        max_batches=10,
        release_stale=lambda: None,
        claim_due=claim_due,
        deliver=lambda pk, claimed_at: None,
        requeue_crashed=lambda pk, claimed_at: None,
        label="Row",
    )
    assert (handled, claims) == (0, [5])


def test_enqueue_task_publishes_with_a_short_retry_and_survives_a_dead_broker() -> None:
    task: Any = mock.Mock()
    assert engine.enqueue_task(task, 7, label="row") is True
    task.apply_async.assert_called_once_with(
        (7,),
        retry=True,
        retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
    )
    task.apply_async.side_effect = OSError("no broker")
    assert engine.enqueue_task(task, 8, label="row") is False


def test_repeat_sweeps_runs_once_watches_until_nothing_is_pending() -> None:
    runs: list[int] = []
    left = [2, 1, 0]

    def sweep() -> int:
        runs.append(1)
        return 3

    with mock.patch.object(engine.time, "sleep") as sleep:
        assert (
            engine.repeat_sweeps(
                sweep, watch=False, forever=False, interval=1, pending=lambda: True
            )
            == 3
        )
        assert sleep.call_count == 0
        runs.clear()
        total = engine.repeat_sweeps(
            sweep, watch=True, forever=False, interval=0.5, pending=lambda: left.pop(0) > 0
        )
    assert (total, len(runs)) == (9, 3)
    sleep.assert_called_with(0.5)
