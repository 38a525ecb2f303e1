"""Concurrent requests on one case, from separate database connections (PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, EventKind
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.models import CancellationCase

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(count: int, action: Any) -> tuple[int, int, list[BaseException]]:
    barrier = threading.Barrier(count)
    ok, refused, errors = [0], [0], []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            action()
            with lock:
                ok[0] += 1
        except InvalidTransition:
            with lock:
                refused[0] += 1
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ok[0], refused[0], errors


def test_concurrent_confirms_cancel_once(customer, catalogue):
    case, _ = services.start_case(customer)
    ok, refused, errors = run_concurrently(
        10, lambda: services.confirm_cancellation(CancellationCase.objects.get(pk=case.pk))
    )
    assert errors == []
    assert (ok, refused) == (1, 9)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.events.filter(kind=EventKind.CANCELLED).count() == 1
    assert case.events.filter(kind=EventKind.PROVIDER_SYNCED).count() == 1


def test_concurrent_starts_open_one_case(customer, catalogue):
    results: list[int] = []
    ok, _refused, errors = run_concurrently(
        8, lambda: results.append(services.start_case(customer)[0].pk)
    )
    assert errors == [] and ok == 8
    assert len(set(results)) == 1
    assert CancellationCase.objects.filter(status=CaseStatus.OPEN).count() == 1
