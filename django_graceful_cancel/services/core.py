"""The three moves every state change is made of, in one place.

Each service function that changes a case does the same three things, in one transaction:

1. ``lock_case``: take the case row with ``SELECT ... FOR UPDATE`` (serialises concurrent requests
   on PostgreSQL; a no-op on SQLite, whose writes are serialised by the database lock);
2. ``transition`` (or ``require`` when the status does not change): a conditional ``UPDATE ...
   WHERE status IN (...)``, so a database without row locks still never applies a transition
   twice;
3. ``record``: append the timeline event and send the matching signal, which reaches its
   receivers only once the transaction commits (``signals.Signal``): a receiver that raises is
   logged and can never roll the change back.

Service modules import these public names; nothing private crosses a module boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal
from django.utils import timezone

from ..exceptions import InvalidTransition
from ..models import CancellationCase, CaseEvent, OfferPresentation
from ..webhooks.outbox import enqueue_for_event

#: Who acted: a user, a label such as ``"system"`` or ``"stripe"``, or None (the system).
Actor = Any


def lock_case(case: CancellationCase | int) -> CancellationCase:
    """The case, re-read under a row lock, inside the caller's transaction.

    The same round trip brings its reason and its offer presentation (with the offer): every
    change of a presentation happens under its case's lock, so the services read it from here
    rather than locking it again (issue 19).
    """
    pk = case.pk if isinstance(case, CancellationCase) else case
    return (
        CancellationCase.objects.select_for_update(of=("self",))
        .select_related("reason", "offer_presentation__offer")
        .get(pk=pk)
    )


def cached_presentation(case: CancellationCase) -> OfferPresentation | None:
    """The case's offer presentation as ``lock_case`` read it (None when it has none)."""
    try:
        return case.offer_presentation
    except OfferPresentation.DoesNotExist:
        return None


def require(case: CancellationCase, allowed: Iterable[str], code: str) -> None:
    """Raise ``InvalidTransition(code)`` unless the case is in one of ``allowed``."""
    if case.status not in tuple(allowed):
        raise InvalidTransition(code=code)


def transition(
    case: CancellationCase,
    allowed: Iterable[str],
    new_status: str,
    *,
    code: str,
    message: str | None = None,
    **fields: Any,
) -> None:
    """Move ``case`` to ``new_status`` if, and only if, it is still in one of ``allowed``.

    ``fields`` are written in the same UPDATE and set on the instance.
    """
    allowed = tuple(allowed)
    now = timezone.now()
    updated = CancellationCase.objects.filter(pk=case.pk, status__in=allowed).update(
        status=new_status, updated_at=now, **fields
    )
    if updated != 1:
        raise InvalidTransition(message, code=code)
    # The instance now says what the row says: callers answer from it without re-reading.
    case.status = new_status
    case.updated_at = now
    for name, value in fields.items():
        setattr(case, name, value)


def record(
    case: CancellationCase,
    kind: str,
    signal: Signal | None = None,
    *,
    actor: Actor = None,
    data: dict[str, Any] | None = None,
    **signal_kwargs: Any,
) -> CaseEvent:
    """Append the timeline event ``kind`` and send ``signal`` about it.

    The signal carries ``sender=CancellationCase``, ``case``, ``actor`` and ``signal_kwargs``.
    Its receivers run after the commit (at once outside a transaction), each guarded: one that
    raises is logged with the exception and never undoes the change nor fails the request.
    """
    event = case.log(kind, actor=actor, data=data)
    # Outbound webhooks and staff alerts (issue 18): their outbox rows join this transaction,
    # so a change that rolls back sends nothing; they leave after the commit (webhooks/outbox.py).
    enqueue_for_event(case, event)
    if signal is not None:
        signal.send(sender=CancellationCase, case=case, actor=actor, **signal_kwargs)
    return event
