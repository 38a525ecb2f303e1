"""Concurrent requests on one case, from separate database connections (PostgreSQL)."""

from __future__ import annotations

import pytest

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, EventKind
from django_graceful_cancel.models import CancellationCase
from tests.support import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
