from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.api.idempotency import purge_expired_keys
from django_graceful_cancel.conf import app_settings
from django_graceful_cancel.models import IdempotencyKey
from django_graceful_cancel.services.privacy import purgeable_cases


class Command(BaseCommand):
    help = (
        'Delete closed cases started more than GRACEFUL_CANCEL["PURGE_AFTER_DAYS"] (or --days) '
        "days ago, and the API's expired Idempotency-Keys. Open cases, and cases the billing "
        "provider has not synced yet, are kept. Recorded in the privacy log."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, help="Override PURGE_AFTER_DAYS.")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, days: int | None = None, dry_run: bool = False, **o: Any) -> None:
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more.")
        # Expired keys hold API responses (what customers typed): they go whether or not case
        # purging is on.
        if dry_run:
            keys = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).count()
            self.stdout.write(f"Would delete {keys} expired idempotency key(s).")
        else:
            keys = purge_expired_keys()
            self.stdout.write(f"Deleted {keys} expired idempotency key(s).")
        days = days if days is not None else app_settings.PURGE_AFTER_DAYS
        if days is None:
            raise CommandError(
                'Purging is off: set GRACEFUL_CANCEL["PURGE_AFTER_DAYS"] or pass --days.'
            )
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        if dry_run:
            cutoff = timezone.now() - timedelta(days=days)
            count = purgeable_cases(cutoff).count()
            self.stdout.write(f"Would delete {count} case(s) started before {cutoff:%Y-%m-%d}.")
            return
        request = services.purge_cases(older_than_days=days, actor="command:purge")
        deleted = request.cases if request is not None else 0
        self.stdout.write(f"Deleted {deleted} case(s) older than {days} days.")
        if request is not None:
            self.stdout.write(
                f"Kept {request.detail.get('evidence_records_kept', 0)} evidence record(s) for "
                "their retention period; deleted "
                f"{request.detail.get('evidence_records_expired', 0)} past it."
            )
