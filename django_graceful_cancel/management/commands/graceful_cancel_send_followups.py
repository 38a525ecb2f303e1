"""Send due follow-ups: the same sweep as the ``graceful_cancel.sweep_followups`` Celery task.

Run it from cron every minute on sites without celery beat::

    * * * * * cd /srv/site && python manage.py graceful_cancel_send_followups

``--watch`` keeps sweeping every ``--interval`` seconds until no follow-up is left to send;
``--forever`` keeps sweeping until interrupted (the demo runs it next to the web server so a
shortened sequence plays in the console).
"""

from __future__ import annotations

from ...choices import FollowUpStatus
from ...followups import outbox as followups
from ...models import FollowUp
from ..sweep import SweepCommand


class Command(SweepCommand):
    help = "Send the follow-ups that are due (in bounded batches)."
    watch_help = "Keep sweeping until no follow-up is scheduled any more."
    done_message = "{total} follow-up(s) handled."

    def sweep_once(self, *, batch_size: int | None, max_batches: int | None) -> int:
        return followups.sweep_followups(batch_size=batch_size, max_batches=max_batches)

    def pending(self) -> bool:
        return FollowUp.objects.filter(
            status__in=[FollowUpStatus.SCHEDULED, FollowUpStatus.SENDING]
        ).exists()
