"""The retention desk's services: follow-up scheduling from the desk sends its signals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.dispatch import Signal

from django_graceful_cancel import services, signals
from django_graceful_cancel.choices import EventKind
from django_graceful_cancel.models import CancellationCase, FollowUp

pytestmark = pytest.mark.django_db


@pytest.fixture
def listen() -> Iterator[Callable[[Signal], list[dict[str, Any]]]]:
    """``listen(signal)`` returns the list the signal's calls are appended to (disconnected after)."""
    connected: list[tuple[Signal, Callable[..., None]]] = []

    def start(signal: Signal) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []

        def receiver(**kwargs: Any) -> None:
            calls.append(kwargs)

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return calls

    yield start
    for signal, receiver in connected:
        signal.disconnect(receiver)


def test_cancelling_and_scheduling_followups_from_the_desk_send_signals(
    customer, staff_user, catalogue, listen, django_capture_on_commit_callbacks
):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    scheduled = listen(signals.followups_scheduled)
    cancelled = listen(signals.followups_cancelled)

    with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
        count = services.cancel_followups(case, actor=staff_user)
    assert [(c["sender"], c["case"].pk, c["actor"], c["cancelled"]) for c in cancelled] == [
        (CancellationCase, case.pk, staff_user, count)
    ]
    FollowUp.objects.filter(case=case).delete()  # staff start the sequence again
    with django_capture_on_commit_callbacks(execute=True):
        created = services.schedule_followups(case, actor=staff_user)
    assert created > 0
    [call] = scheduled
    assert (call["sender"], call["case"].pk, call["actor"]) == (
        CancellationCase,
        case.pk,
        staff_user,
    )
    assert sorted(f.pk for f in call["followups"]) == sorted(
        FollowUp.objects.filter(case=case).values_list("pk", flat=True)
    )
    kinds = list(case.events.values_list("kind", flat=True))
    assert EventKind.FOLLOWUPS_SCHEDULED in kinds and EventKind.FOLLOWUPS_CANCELLED in kinds
