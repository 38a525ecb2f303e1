"""Send due webhook deliveries and staff alerts: the same sweep as the
``graceful_cancel.sweep_outbound_deliveries`` Celery task.

Run it from cron every minute on sites without celery beat::

    * * * * * cd /srv/site && python manage.py graceful_cancel_send_webhooks

``--watch`` keeps sweeping every ``--interval`` seconds until nothing is left to send (rows
waiting for a retry included); ``--forever`` keeps sweeping until interrupted.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...webhooks import outbox


class Command(BaseCommand):
    help = "Send the webhook deliveries and staff alerts that are due (in bounded batches)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per batch.")
        parser.add_argument("--max-batches", type=int, default=None, help="Batches per sweep.")
        parser.add_argument(
            "--watch",
            action="store_true",
            help="Keep sweeping until no delivery is pending any more.",
        )
        parser.add_argument(
            "--forever", action="store_true", help="Keep sweeping until interrupted (Ctrl-C)."
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between sweeps with --watch."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        with contextlib.suppress(KeyboardInterrupt):
            total = self.sweep(options)
        self.stdout.write(f"{total} delivery attempt(s) made.")

    def sweep(self, options: dict[str, Any]) -> int:
        total = 0
        while True:
            total += outbox.sweep_deliveries(
                batch_size=options["batch_size"], max_batches=options["max_batches"]
            )
            if not (options["watch"] or options["forever"]):
                break
            if not options["forever"] and not outbox.pending_deliveries():
                break
            time.sleep(options["interval"])
        return total
