from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from django_graceful_cancel import analytics
from django_graceful_cancel.insights import figures as insights
from django_graceful_cancel.services import revenue


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Print the retention dashboard's figures as CSV (section, item, metric, value) or JSON, "
        "for cases started in a date range (default: the dashboard's default range)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--start", type=_day, help="First day, YYYY-MM-DD (inclusive).")
        parser.add_argument("--end", type=_day, help="Last day, YYYY-MM-DD (inclusive).")
        parser.add_argument("--output", "-o", help="Write to this file instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = analytics.default_range()
        tz = timezone.get_current_timezone()
        if options["start"]:
            start = dt.datetime.combine(options["start"], dt.time.min, tzinfo=tz)
        if options["end"]:
            end = dt.datetime.combine(options["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        if start >= end:
            raise CommandError("--start must be before --end.")
        data = analytics.dashboard(start, end)
        # Revenue on every reason (services/revenue.py), after the dashboard's own figures.
        data["mrr"] = revenue.figures(start, end)
        # Themes in the customers' words, the suggestions' acceptance (docs/insights.md).
        data["insights"] = insights.figures(start, end)
        out = open(options["output"], "w", newline="") if options["output"] else None  # noqa: SIM115
        stream = out or self.stdout
        try:
            if options["format"] == "json":
                stream.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2) + "\n")
            else:
                writer = csv.writer(out or _Lines(self.stdout))
                writer.writerow(["section", "item", "metric", "value"])
                writer.writerows(analytics.dashboard_rows(data))
                writer.writerows(revenue.rows(data["mrr"]))
                writer.writerows(insights.rows(data["insights"]))
        finally:
            if out is not None:
                out.close()


class _Lines:
    """csv.writer over a management command's OutputWrapper (which adds its own newline)."""

    def __init__(self, stream: Any) -> None:
        # An OutputWrapper (write(text, ending=...)) or, outside a command, sys.stdout.
        self.stream: Any = stream or sys.stdout

    def write(self, text: str) -> None:
        self.stream.write(text, ending="")
