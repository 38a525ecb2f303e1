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


# --- Follow-ups (docs/followups.md) -------------------------------------------------------------


@shared_task(bind=True, name="graceful_cancel.send_followup", max_retries=None)
def send_followup(self, followup_pk: int) -> str:
    """Send one follow-up if it is due and nobody else holds it; safe to run twice.

    A transient failure puts the row back with an exponential backoff and retries the task
    then; ``FOLLOWUP_MAX_ATTEMPTS`` (counted on the row, not by Celery) bounds the retries.
    """
    from .services import followups

    outcome = followups.send_followup(followup_pk)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="graceful_cancel.sweep_followups")
def sweep_followups(batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Send every due follow-up, in bounded batches (schedule it with celery beat)."""
    from .services import followups

    return followups.sweep_followups(batch_size=batch_size, max_batches=max_batches)


@shared_task(name="graceful_cancel.run_save_checks")
def run_save_checks(limit: int = 500) -> int:
    """Ask the subscription backend whether saved customers are still subscribed 30/60/90 days
    later (``SAVE_CHECK_DAYS``); schedule daily with celery beat. Idempotent."""
    from .services import desk

    return desk.run_save_checks(limit=limit)


@shared_task(name="graceful_cancel.purge_old_cases")
def purge_old_cases() -> int:
    """Delete closed cases older than ``PURGE_AFTER_DAYS`` (does nothing when it is None)."""
    from .services import privacy

    request = privacy.purge_cases()
    return request.cases if request is not None else 0


@shared_task(name="graceful_cancel.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete every expired API ``Idempotency-Key`` (and the response stored with it); schedule
    daily. Keys of customers who never come back would otherwise stay."""
    from .api.idempotency import purge_expired_keys

    return purge_expired_keys()
