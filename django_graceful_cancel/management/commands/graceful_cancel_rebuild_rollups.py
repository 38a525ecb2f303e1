"""``manage.py graceful_cancel_rebuild_rollups``: recompute the dashboard's per-day rollups.

Without options, every rollup is recomputed from the cases (after a ``TIME_ZONE`` change, a
purge, or changes made behind the services' back, such as raw SQL). ``--refresh`` only brings
them up to date with what changed since the last run, at most ``--max-days`` days per run: the
bounded job to schedule every few minutes, so that no dashboard view has many days to catch up.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_graceful_cancel.models import CancellationCase
from django_graceful_cancel.services import rollups


class Command(BaseCommand):
    help = "Recompute the dashboard's per-day rollups from the cases (or --refresh what changed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Only the days touched since the last run (the periodic job).",
        )
        parser.add_argument(
            "--max-days",
            type=int,
            default=None,
            help="With --refresh: recompute at most this many days in this run.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["refresh"]:
            days = rollups.refresh(max_days=options["max_days"])
            self.stdout.write(f"Rollups refreshed: {days} day(s) recomputed.")
            return
        rows = rollups.rebuild()
        cases = CancellationCase.objects.count()
        self.stdout.write(f"Rollups rebuilt from {cases} cases: {rows} rows.")
