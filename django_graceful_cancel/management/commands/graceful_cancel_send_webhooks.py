"""Send due webhook deliveries and staff alerts: the same sweep as the
``graceful_cancel.sweep_outbound_deliveries`` Celery task.

Run it from cron every minute on sites without celery beat::

    * * * * * cd /srv/site && python manage.py graceful_cancel_send_webhooks

``--watch`` keeps sweeping every ``--interval`` seconds until nothing is left to send (rows
waiting for a retry included); ``--forever`` keeps sweeping until interrupted.
"""

from __future__ import annotations

from ...webhooks import outbox
from ..sweep import SweepCommand


class Command(SweepCommand):
    help = "Send the webhook deliveries and staff alerts that are due (in bounded batches)."
    watch_help = "Keep sweeping until no delivery is pending any more."
    done_message = "{total} delivery attempt(s) made."

    def sweep_once(self, *, batch_size: int | None, max_batches: int | None) -> int:
        return outbox.sweep_deliveries(batch_size=batch_size, max_batches=max_batches)

    def pending(self) -> bool:
        return bool(outbox.pending_deliveries())
