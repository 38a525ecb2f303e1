from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_graceful_cancel import services


class Command(BaseCommand):
    help = "Mark open cases untouched for ABANDON_AFTER_HOURS as abandoned."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--hours", type=int, default=None)

    def handle(self, *args: Any, hours: int | None = None, **options: Any) -> None:
        count = services.abandon_stale(older_than_hours=hours)
        self.stdout.write(f"Abandoned {count} stale open cases.")
