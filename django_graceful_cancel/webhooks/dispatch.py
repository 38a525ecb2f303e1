"""How outbound deliveries (webhooks and staff alerts) leave after the transaction that wrote them.

``GRACEFUL_CANCEL["WEBHOOK_DISPATCH"]`` names the dispatcher, with the names of
``FOLLOWUP_DISPATCH``: ``"auto"`` (the default), ``"celery"``, ``"sweep"``, ``"inline"`` or the
dotted path of a ``followups.dispatch.BaseDispatcher`` subclass. Whatever it does, a row it does
not send waits for the next sweep (``graceful_cancel_send_webhooks`` or the beat task): nothing is
lost, and dispatching never fails the request that wrote the rows.

``"auto"`` is Celery when the process has a Celery app of the site's own with a broker
(``followups.dispatch.celery_status()``), and the sweep otherwise: never inline. An endpoint is
someone else's server, and a request that waited for it would make a customer wait for it.
``"inline"`` is for sites that accept that: one attempt per row right after the commit, bounded
by ``WEBHOOK_INLINE_TIMEOUT_SECONDS``, retries left to the sweep.
"""

from __future__ import annotations

import logging

from django.utils.module_loading import import_string

from ..conf import app_settings
from ..followups import dispatch as base
from ..followups.dispatch import BaseDispatcher, celery_status

logger = logging.getLogger("django_graceful_cancel")

#: The built-in dispatchers, by the name ``WEBHOOK_DISPATCH`` gives them.
DISPATCHERS: dict[str, str] = {
    # Celery when the site has a Celery app with a broker, else the sweep (the default).
    "auto": "django_graceful_cancel.webhooks.dispatch.AutoDispatcher",
    # One task per row on the broker (webhooks/tasks.py).
    "celery": "django_graceful_cancel.webhooks.tasks.CeleryDispatcher",
    # One attempt in this process, right after the commit, with a short timeout.
    "inline": "django_graceful_cancel.webhooks.outbox.InlineDispatcher",
    # Nothing: the next sweep sends the rows.
    "sweep": "django_graceful_cancel.followups.dispatch.SweepDispatcher",
}


class AutoDispatcher(base.AutoDispatcher):
    """Celery when the site has a Celery app with a broker, else the sweep; decided at each use."""

    names = DISPATCHERS
    fallback = "sweep"

    def celery_can_deliver(self) -> bool:
        return celery_status().can_deliver  # looked up here, where the tests patch it


def dispatcher_path(value: object) -> str:
    """The dotted path ``WEBHOOK_DISPATCH``'s ``value`` names (anything else means "auto"; the
    system check reports it)."""
    return base.dispatcher_path(value, DISPATCHERS)


def get_dispatcher() -> BaseDispatcher:
    dispatcher: BaseDispatcher = import_string(dispatcher_path(app_settings.WEBHOOK_DISPATCH))()
    return dispatcher


def dispatch_on_commit(pks: list[int]) -> None:
    """Hand ``pks`` to the configured dispatcher once the current transaction commits; never
    raises (the rows are saved: the sweep sends them)."""
    if not pks:
        return
    try:
        get_dispatcher().dispatch_on_commit(pks)
    except Exception:
        logger.exception(
            "WEBHOOK_DISPATCH could not dispatch deliveries %s; the sweep sends them", pks
        )


def dispatch_now(pks: list[int]) -> None:
    """Hand ``pks`` to the configured dispatcher at once (a worker that just freed the next row
    of a chain); never raises."""
    if not pks:
        return
    try:
        get_dispatcher().dispatch(pks)
    except Exception:
        logger.exception(
            "WEBHOOK_DISPATCH could not dispatch deliveries %s; the sweep sends them", pks
        )
