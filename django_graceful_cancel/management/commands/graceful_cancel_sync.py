from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_graceful_cancel import services
from django_graceful_cancel.services import cases as cases_services


class Command(BaseCommand):
    help = (
        "Retry applying confirmed cancellations and reactivations the subscription backend missed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args: Any, limit: int = 500, **options: Any) -> None:
        pks = cases_services.pending_sync_cases(limit=limit)
        synced = sum(1 for pk in pks if services.retry_provider_sync(pk).provider_sync == "synced")
        self.stdout.write(f"Provider sync: {synced} of {len(pks)} pending cases applied.")
