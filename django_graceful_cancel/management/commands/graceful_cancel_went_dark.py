"""Make a desk task for each cancelled customer worth reaching who went dark: the same scan as
the ``graceful_cancel.scan_went_dark`` Celery task (docs/admin.md, "Customers who went dark").

Run it daily::

    30 6 * * * cd /srv/site && python manage.py graceful_cancel_went_dark

Idempotent: a case gets one task, ever.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...services import reach


class Command(BaseCommand):
    help = "Make desk tasks to reach, personally, the cancelled customers who went dark."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200, help="Cases per batch.")
        parser.add_argument("--max-batches", type=int, default=10, help="Batches per run.")

    def handle(self, *args: Any, **options: Any) -> None:
        made = reach.scan_went_dark(
            batch_size=max(int(options["batch_size"]), 1),
            max_batches=max(int(options["max_batches"]), 1),
        )
        self.stdout.write(f"{made} task(s) to reach customers who went dark.")
