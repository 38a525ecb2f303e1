"""The follow-up Celery tasks, and the dispatcher that enqueues them.

The only follow-up module that imports Celery: the engine (``outbox``) reaches it through
``FOLLOWUP_DISPATCH = "celery"`` (``dispatch.py``), never by import. ``@shared_task`` so the app
never imports the host's Celery app; ``django_graceful_cancel.tasks`` imports these tasks, so
Celery's autodiscovery registers them under the same names as before.
"""

from __future__ import annotations

from typing import Any

from celery import current_app, shared_task
from celery.app import default_app

from ..services import outbox as outbox_engine
from . import outbox
from .dispatch import BaseDispatcher, CeleryStatus


@shared_task(bind=True, name="graceful_cancel.send_followup", max_retries=None)
def send_followup(self: Any, followup_pk: int) -> str:
    """Send one follow-up if it is due and nobody else holds it; safe to run twice.

    A transient failure puts the row back with an exponential backoff and retries the task
    then; ``FOLLOWUP_MAX_ATTEMPTS`` (counted on the row, not by Celery) bounds the retries.
    """
    outcome = outbox.send_followup(followup_pk)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="graceful_cancel.sweep_followups")
def sweep_followups(batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Send every due follow-up, in bounded batches (schedule it with celery beat)."""
    return outbox.sweep_followups(batch_size=batch_size, max_batches=max_batches)


def enqueue_followup(pk: int) -> bool:
    """Hand a row to Celery; a broker failure is logged and the sweep sends the row later."""
    return outbox_engine.enqueue_task(send_followup, pk, label="follow-up")


class CeleryDispatcher(BaseDispatcher):
    """One ``graceful_cancel.send_followup`` task per row (``FOLLOWUP_DISPATCH = "celery"``)."""

    def dispatch(self, pks: list[int]) -> None:
        for pk in pks:
            enqueue_followup(pk)


def celery_status() -> CeleryStatus:
    """Whether this process runs a Celery app of the site's own with a broker configured.

    Celery's ``current_app`` always exists: without an app of the site's own it is Celery's
    built-in fallback ("default", which would publish to a local AMQP broker nobody runs). An
    app of the site's own has a broker when its configuration names one (``broker_url``, or
    ``CELERY_BROKER_URL`` with the usual Django set-up) or when it runs tasks eagerly.
    """
    app = current_app._get_current_object()
    fallback = default_app._get_current_object()
    if app is fallback and app.main == "default" and not app.set_as_current:
        return CeleryStatus(installed=True)
    conf = app.conf
    has_broker = bool(conf.broker_url or conf.broker_write_url or conf.task_always_eager)
    return CeleryStatus(installed=True, has_app=True, has_broker=has_broker)
