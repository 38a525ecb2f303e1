"""Send due follow-ups: the same sweep as the ``graceful_cancel.sweep_followups`` Celery task.

Run it from cron every minute on sites without celery beat::

    * * * * * cd /srv/site && python manage.py graceful_cancel_send_followups

``--watch`` keeps sweeping every ``--interval`` seconds until no follow-up is left to send;
``--forever`` keeps sweeping until interrupted (the demo runs it next to the web server so a
shortened sequence plays in the console).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...choices import FollowUpStatus
from ...followups import outbox as followups
from ...models import FollowUp


class Command(BaseCommand):
    help = "Send the follow-ups that are due (in bounded batches)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per batch.")
        parser.add_argument("--max-batches", type=int, default=None, help="Batches per sweep.")
        parser.add_argument(
            "--watch",
            action="store_true",
            help="Keep sweeping until no follow-up is scheduled any more.",
        )
        parser.add_argument(
            "--forever",
            action="store_true",
            help="Keep sweeping until interrupted (Ctrl-C).",
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between sweeps with --watch."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        with contextlib.suppress(KeyboardInterrupt):
            total = self.sweep(options)
        self.stdout.write(f"{total} follow-up(s) handled.")

    def sweep(self, options: dict[str, Any]) -> int:
        total = 0
        while True:
            handled = followups.sweep_followups(
                batch_size=options["batch_size"], max_batches=options["max_batches"]
            )
            total += handled
            if not (options["watch"] or options["forever"]):
                break
            if (
                not options["forever"]
                and not FollowUp.objects.filter(
                    status__in=[FollowUpStatus.SCHEDULED, FollowUpStatus.SENDING]
                ).exists()
            ):
                break
            time.sleep(options["interval"])
        return total
