from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_graceful_cancel import feedback
from django_graceful_cancel.catalogue.routes import PERIODS


class Command(BaseCommand):
    help = (
        'Send the feedback digests of GRACEFUL_CANCEL["FEEDBACK_ROUTES"] (routes with "mode": '
        '"digest"), each for its last whole day or week and once only, and retry the per-case '
        "feedback a failure left pending. Run it daily (docs/messages.md)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--every", choices=PERIODS, help="Only the routes sent daily, or only those weekly."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be sent; send nothing."
        )

    def handle(self, *args: Any, every: str | None = None, dry_run: bool = False, **o: Any) -> None:
        rows = feedback.send_digests(every=every, dry_run=dry_run)
        for row in rows:
            if not dry_run:
                row.refresh_from_db()
            start = f"{row.period_start:%Y-%m-%d}" if row.period_start else "?"
            end = f"{row.period_end:%Y-%m-%d}" if row.period_end else "?"
            status = "would send" if dry_run else row.status
            self.stdout.write(
                f"{row.route}: {start} to {end}, {row.cases} case(s), "
                f"{len(row.recipients)} recipient(s): {status}"
            )
        if not rows:
            self.stdout.write("No digest is due.")
