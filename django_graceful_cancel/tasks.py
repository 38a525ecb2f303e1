"""Celery tasks. ``@shared_task`` so the app never imports the host's Celery app.

Schedule them with celery beat (docs/deployment.md shows the snippet); nothing is scheduled silently.
"""

from __future__ import annotations

from celery import shared_task

from . import services
from .api.idempotency import purge_expired_keys

# The follow-up tasks live with the follow-ups (docs/followups.md); importing them here lets
# Celery's autodiscovery of ``django_graceful_cancel.tasks`` register them.
from .followups.tasks import send_followup, sweep_followups
from .insights.periodic import retrain_and_suggest
from .services import cases as cases_services

# Outbound webhooks and staff alerts (docs/webhooks.md), registered the same way.
from .webhooks.tasks import send_outbound_delivery, sweep_outbound_deliveries


@shared_task(name="graceful_cancel.retry_provider_sync")
def retry_provider_sync(case_pk: int) -> str:
    return services.retry_provider_sync(case_pk).provider_sync


@shared_task(name="graceful_cancel.sweep_provider_sync")
def sweep_provider_sync(limit: int = 500) -> int:
    pks = cases_services.pending_sync_cases(limit=limit)
    for pk in pks:
        retry_provider_sync.delay(pk)
    return len(pks)


@shared_task(name="graceful_cancel.abandon_stale_cases")
def abandon_stale_cases() -> int:
    return services.abandon_stale()


@shared_task(name="graceful_cancel.run_save_checks")
def run_save_checks(limit: int = 500) -> int:
    """Ask the subscription backend whether saved customers are still subscribed 30/60/90 days
    later (``SAVE_CHECK_DAYS``); schedule daily with celery beat. Idempotent."""
    return services.run_save_checks(limit=limit)


@shared_task(name="graceful_cancel.process_declarations")
def process_declarations(limit: int = 500) -> int:
    """Match and acknowledge declarations of the eu profile's page that were left unprocessed
    (the web process stopped right after answering); schedule every few minutes. Idempotent."""
    return services.process_pending_declarations(limit=limit)


@shared_task(name="graceful_cancel.process_withdrawals")
def process_withdrawals(limit: int = 500) -> int:
    """Match and acknowledge no-login withdrawals left unprocessed (the web process stopped
    right after answering); schedule every few minutes. Idempotent (docs/compliance.md)."""
    return services.process_pending_withdrawals(limit=limit)


@shared_task(name="graceful_cancel.sweep_pauses")
def sweep_pauses() -> int:
    """End the pauses whose date has come (resuming Stripe's native pauses); schedule hourly.
    Idempotent (docs/pause.md)."""
    return services.sweep_pauses()


@shared_task(name="graceful_cancel.scan_went_dark")
def scan_went_dark() -> int:
    """Make the desk tasks for cancelled customers worth reaching who went dark; schedule
    daily. Idempotent: one task per case (docs/admin.md)."""
    return services.scan_went_dark()


@shared_task(name="graceful_cancel.purge_old_cases")
def purge_old_cases() -> int:
    """Delete closed cases older than ``PURGE_AFTER_DAYS`` (does nothing when it is None)."""
    request = services.purge_cases()
    return request.cases if request is not None else 0


@shared_task(name="graceful_cancel.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete every expired API ``Idempotency-Key`` (and the response stored with it); schedule
    daily. Keys of customers who never come back would otherwise stay."""
    return purge_expired_keys()


@shared_task(name="graceful_cancel.send_feedback_digests")
def send_feedback_digests() -> int:
    """Send the feedback digests of ``FEEDBACK_ROUTES`` that are due (each once) and retry
    per-case feedback a failure left pending; schedule daily (docs/messages.md)."""
    from . import feedback

    return len(feedback.send_digests())


@shared_task(name="graceful_cancel.train_classifier")
def train_classifier() -> int:
    """Retrain the private classifier and write its suggestions (none is applied: staff decide
    on the desk); schedule daily or weekly. Does nothing while INSIGHTS_CLASSIFIER is None.
    Returns the number of new suggestions (docs/insights.md)."""
    done = retrain_and_suggest()
    return done.suggested if done is not None else 0


__all__ = [
    "abandon_stale_cases",
    "process_declarations",
    "purge_idempotency_keys",
    "purge_old_cases",
    "retry_provider_sync",
    "run_save_checks",
    "scan_went_dark",
    "send_feedback_digests",
    "send_followup",
    "send_outbound_delivery",
    "sweep_followups",
    "sweep_outbound_deliveries",
    "sweep_pauses",
    "sweep_provider_sync",
    "train_classifier",
]
