"""Celery tasks. ``@shared_task`` so the app never imports the host's Celery app.

Schedule them with celery beat (docs/deployment.md shows the snippet); nothing is scheduled silently.
"""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="graceful_cancel.retry_provider_sync")
def retry_provider_sync(case_pk: int) -> str:
    return services.retry_provider_sync(case_pk).provider_sync


@shared_task(name="graceful_cancel.sweep_provider_sync")
def sweep_provider_sync(limit: int = 500) -> int:
    pks = services.pending_sync_cases(limit=limit)
    for pk in pks:
        retry_provider_sync.delay(pk)
    return len(pks)


@shared_task(name="graceful_cancel.abandon_stale_cases")
def abandon_stale_cases() -> int:
    return services.abandon_stale()
