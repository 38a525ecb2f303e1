"""How follow-ups due at once leave after the transaction that created them commits.

``GRACEFUL_CANCEL["FOLLOWUP_DISPATCH"]`` names the dispatcher: ``"celery"``, ``"inline"``,
``"sweep"`` or the dotted path of a ``BaseDispatcher`` subclass. It is resolved each time rows are
scheduled, so ``override_settings`` applies at once. Whatever the dispatcher does, a row it does not
send waits for the next sweep: nothing is lost.

The engine (``outbox``) knows dispatchers only by dotted path; the Celery one lives in ``tasks``,
the only follow-up module that imports Celery.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.module_loading import import_string

from ..conf import app_settings

#: The built-in dispatchers, by the name ``FOLLOWUP_DISPATCH`` gives them.
DISPATCHERS: dict[str, str] = {
    # Enqueue one send task per row on the broker.
    "celery": "django_graceful_cancel.followups.tasks.CeleryDispatcher",
    # Send in this process, right after the commit (sites without a task queue).
    "inline": "django_graceful_cancel.followups.outbox.InlineDispatcher",
    # Do nothing: the next sweep (cron or celery beat) sends the rows.
    "sweep": "django_graceful_cancel.followups.dispatch.SweepDispatcher",
}


class BaseDispatcher:
    """Hands rows due now to whatever sends them; instantiated per use, without arguments."""

    def dispatch_on_commit(self, pks: list[int]) -> None:
        """Call ``dispatch(pks)`` once the current transaction commits."""
        pks = list(pks)
        transaction.on_commit(lambda: self.dispatch(pks))

    def dispatch(self, pks: list[int]) -> None:
        """Send or enqueue ``pks``; must not raise (the sweep is the fallback)."""
        raise NotImplementedError


class SweepDispatcher(BaseDispatcher):
    """Leaves every row to the next sweep."""

    def dispatch_on_commit(self, pks: list[int]) -> None:
        pass  # nothing to wait for

    def dispatch(self, pks: list[int]) -> None:
        pass


def dispatcher_path(value: object) -> str:
    """The dotted path ``FOLLOWUP_DISPATCH``'s ``value`` names.

    A name that is neither built in nor a dotted path means Celery, as it did before the setting
    took dotted paths (the system check reports it).
    """
    if isinstance(value, str) and value in DISPATCHERS:
        return DISPATCHERS[value]
    if isinstance(value, str) and "." in value:
        return value
    return DISPATCHERS["celery"]


def get_dispatcher() -> BaseDispatcher:
    dispatcher: BaseDispatcher = import_string(dispatcher_path(app_settings.FOLLOWUP_DISPATCH))()
    return dispatcher


def dispatch_on_commit(pks: list[int]) -> None:
    """Hand ``pks`` to the configured dispatcher once the current transaction commits."""
    get_dispatcher().dispatch_on_commit(pks)
