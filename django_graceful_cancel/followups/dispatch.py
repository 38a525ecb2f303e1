"""How follow-ups due at once leave after the transaction that created them commits.

``GRACEFUL_CANCEL["FOLLOWUP_DISPATCH"]`` names the dispatcher: ``"auto"`` (the default),
``"celery"``, ``"inline"``, ``"sweep"`` or the dotted path of a ``BaseDispatcher`` subclass. It is
resolved each time rows are scheduled, so ``override_settings`` applies at once. Whatever the
dispatcher does, a row it does not send waits for the next sweep: nothing is lost.

``"auto"`` is Celery when the process runs a Celery app of the site's own with a broker configured
(``celery_status()``), and inline otherwise, so a site without Celery still sends the confirmation
at once. The system checks say when the configured dispatcher cannot deliver
(``delivery_problem()``).

Dispatching never fails the request that scheduled the rows: a dispatcher that cannot be loaded,
or that raises, is logged and the rows wait for the sweep.

The engine (``outbox``) knows dispatchers only by dotted path; the Celery one lives in ``tasks``,
the only follow-up module that imports Celery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.module_loading import import_string

from ..conf import app_settings

logger = logging.getLogger("django_graceful_cancel")

#: The built-in dispatchers, by the name ``FOLLOWUP_DISPATCH`` gives them.
DISPATCHERS: dict[str, str] = {
    # Celery when the site has a Celery app with a broker, else inline (the default).
    "auto": "django_graceful_cancel.followups.dispatch.AutoDispatcher",
    # Enqueue one send task per row on the broker.
    "celery": "django_graceful_cancel.followups.tasks.CeleryDispatcher",
    # Send in this process, right after the commit (sites without a task queue).
    "inline": "django_graceful_cancel.followups.outbox.InlineDispatcher",
    # Do nothing: the next sweep (cron or celery beat) sends the rows.
    "sweep": "django_graceful_cancel.followups.dispatch.SweepDispatcher",
}

#: Where the Celery side is looked at (``followups/tasks.py``, which imports Celery).
CELERY_STATUS = "django_graceful_cancel.followups.tasks.celery_status"


class BaseDispatcher:
    """Hands rows due now to whatever sends them; instantiated per use, without arguments."""

    def dispatch_on_commit(self, pks: list[int]) -> None:
        """Call ``dispatch(pks)`` once the current transaction commits; an error is logged."""
        pks = list(pks)
        transaction.on_commit(lambda: dispatch_logged(self, pks), robust=True)

    def dispatch(self, pks: list[int]) -> None:
        """Send or enqueue ``pks``; must not raise (the sweep is the fallback)."""
        raise NotImplementedError


class SweepDispatcher(BaseDispatcher):
    """Leaves every row to the next sweep."""

    def dispatch_on_commit(self, pks: list[int]) -> None:
        pass  # nothing to wait for

    def dispatch(self, pks: list[int]) -> None:
        pass


@dataclass(frozen=True)
class CeleryStatus:
    """What this process knows about Celery (``celery_status()``)."""

    #: Celery can be imported.
    installed: bool
    #: The current Celery app is the site's own, not Celery's built-in fallback app.
    has_app: bool = False
    #: That app names a broker (``broker_url``), or runs tasks eagerly in-process.
    has_broker: bool = False

    @property
    def can_deliver(self) -> bool:
        return self.installed and self.has_app and self.has_broker


def celery_status() -> CeleryStatus:
    """Whether this process has a Celery app of the site's own with a broker."""
    try:
        status: CeleryStatus = import_string(CELERY_STATUS)()
    except ImportError:
        return CeleryStatus(installed=False)
    return status


class AutoDispatcher(BaseDispatcher):
    """Celery when the site has a Celery app with a broker (``celery_status()``), else inline.

    Decided at each use, so a Celery app configured after start-up is picked up. A subclass
    names its own built-in dispatchers (``names``) and what stands in for Celery (``fallback``).
    """

    #: The built-in dispatchers this one chooses among, by name.
    names: dict[str, str] = DISPATCHERS
    #: The name used when Celery cannot deliver.
    fallback: str = "inline"

    def celery_can_deliver(self) -> bool:
        return celery_status().can_deliver

    def chosen(self) -> BaseDispatcher:
        name = "celery" if self.celery_can_deliver() else self.fallback
        dispatcher: BaseDispatcher = import_string(self.names[name])()
        return dispatcher

    def dispatch_on_commit(self, pks: list[int]) -> None:
        self.chosen().dispatch_on_commit(pks)

    def dispatch(self, pks: list[int]) -> None:
        self.chosen().dispatch(pks)


def dispatcher_path(value: object, names: dict[str, str] = DISPATCHERS) -> str:
    """The dotted path a dispatch setting's ``value`` names, among the built-in ``names``
    (``FOLLOWUP_DISPATCH``'s by default).

    A name that is neither built in nor a dotted path means ``"auto"`` (the system check
    reports it).
    """
    if isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, str) and "." in value:
        return value
    return names["auto"]


def get_dispatcher() -> BaseDispatcher:
    dispatcher: BaseDispatcher = import_string(dispatcher_path(app_settings.FOLLOWUP_DISPATCH))()
    return dispatcher


def dispatch_logged(dispatcher: BaseDispatcher, pks: list[int]) -> None:
    """``dispatcher.dispatch(pks)``; an error is logged and the rows wait for the sweep."""
    try:
        dispatcher.dispatch(pks)
    except Exception:
        logger.exception(
            "Dispatcher %s failed for follow-ups %s; the sweep sends them", dispatcher, pks
        )


def dispatch_on_commit(pks: list[int]) -> None:
    """Hand ``pks`` to the configured dispatcher once the current transaction commits.

    Never raises: a dispatcher that cannot be loaded or fails is logged, and the rows (already
    saved) wait for the next sweep. Scheduling follow-ups must never undo or fail the
    cancellation that scheduled them.
    """
    try:
        get_dispatcher().dispatch_on_commit(pks)
    except Exception:
        logger.exception(
            "FOLLOWUP_DISPATCH %r could not dispatch follow-ups %s; the sweep sends them",
            app_settings.FOLLOWUP_DISPATCH,
            pks,
        )


def delivery_problem(value: object) -> tuple[str, str] | None:
    """Why ``FOLLOWUP_DISPATCH = value`` cannot send a confirmation at once, for the checks.

    ``("celery", why)`` when Celery is named but this process has no Celery app with a broker;
    ``("sweep", why)`` for ``"sweep"``, which waits for a scheduled sweep; None otherwise.
    """
    if value == "sweep":
        return (
            "sweep",
            "follow-ups, even the confirmation, leave only when graceful_cancel_send_followups "
            "(or the graceful_cancel.sweep_followups task) runs",
        )
    if value != "celery":
        return None
    status = celery_status()
    if not status.installed:
        why = "Celery is not installed"
    elif not status.has_app:
        why = "this process has no Celery app of its own (only Celery's built-in default app)"
    elif not status.has_broker:
        why = "the Celery app has no broker_url"
    else:
        return None
    return ("celery", why)
