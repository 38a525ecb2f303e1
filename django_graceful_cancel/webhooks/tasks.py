"""The outbound Celery tasks (webhooks and staff alerts), and the dispatcher that enqueues them.

The only module of the package that imports Celery: the engine (``outbox``) reaches it through
``WEBHOOK_DISPATCH = "celery"`` (``dispatch.py``), never by import. ``django_graceful_cancel.tasks``
imports these tasks, so Celery's autodiscovery registers them.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from ..followups.dispatch import BaseDispatcher
from ..services import outbox as outbox_engine
from . import outbox


@shared_task(bind=True, name="graceful_cancel.send_outbound_delivery", max_retries=None)
def send_outbound_delivery(self: Any, delivery_pk: int) -> str:
    """Send one webhook delivery or staff alert if it is due and first in line; safe to run twice.

    A failure puts the row back with an exponential back-off and retries the task then;
    ``WEBHOOK_MAX_ATTEMPTS`` (counted on the row, not by Celery) bounds the retries. A delivery
    that leaves (or gives up) enqueues the next row of its endpoint and case.
    """
    outcome = outbox.send_delivery(delivery_pk)
    outbox.dispatch_successor(outcome)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="graceful_cancel.sweep_outbound_deliveries")
def sweep_outbound_deliveries(batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Send every due webhook delivery and staff alert, in bounded batches and in order per
    endpoint and case (schedule it with celery beat, every minute)."""
    return outbox.sweep_deliveries(batch_size=batch_size, max_batches=max_batches)


def enqueue_delivery(pk: int) -> bool:
    """Hand a row to Celery; a broker failure is logged and the sweep sends the row later."""
    return outbox_engine.enqueue_task(send_outbound_delivery, pk, label="delivery")


class CeleryDispatcher(BaseDispatcher):
    """One ``graceful_cancel.send_outbound_delivery`` task per row (``WEBHOOK_DISPATCH =
    "celery"``)."""

    def dispatch(self, pks: list[int]) -> None:
        for pk in pks:
            enqueue_delivery(pk)
