"""End the pauses whose date has come: the same sweep as the ``graceful_cancel.sweep_pauses``
Celery task (docs/pause.md).

Run it from cron every hour on sites without celery beat::

    0 * * * * cd /srv/site && python manage.py graceful_cancel_pauses

Each pause due is marked "resumed on schedule"; with Stripe's native pause the subscription is
resumed at Stripe here (``pause_collection`` resumes by itself). The reminders before the end
are ordinary follow-ups, sent by ``graceful_cancel_send_followups``.
"""

from __future__ import annotations

from ...services import pauses
from ..sweep import SweepCommand


class Command(SweepCommand):
    help = "End the pauses whose date has come (in bounded batches)."
    watch_help = "Keep sweeping until no pause is due any more."
    done_message = "{total} pause(s) resumed on schedule."

    def sweep_once(self, *, batch_size: int | None, max_batches: int | None) -> int:
        return pauses.sweep_pauses(batch_size=batch_size or 200, max_batches=max_batches or 50)

    def pending(self) -> bool:
        return pauses.due_pauses() > 0
