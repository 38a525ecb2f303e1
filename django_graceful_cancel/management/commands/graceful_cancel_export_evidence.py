"""Export the evidence records of the cases started in a date range (docs/compliance.md).

Streams: cases are read ``--chunk-size`` at a time and each record is written as soon as it is
built, so memory stays bounded however many cases the range holds. Records kept after the purge
deleted their case come after the live ones. Each exported live case gets an "evidence exported"
event in its timeline.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from django_graceful_cancel.services import evidence

ACTOR = "command:export_evidence"


def parse_bound(value: str, option: str, *, end: bool) -> datetime:
    """A date (the whole day: from its start, or up to its end for ``--until``) or an ISO 8601
    date and time; naive values are read in the site's time zone."""
    text = (value or "").strip()
    try:
        # A plain date first: Python reads "2026-01-31" as a datetime at midnight too, which
        # would make --until end a day early.
        day = parse_date(text)
        moment = None if day is not None else parse_datetime(text)
    except ValueError:  # well-formed but impossible, such as 2026-02-30
        moment = day = None
    if moment is None and day is None:
        raise CommandError(
            f"{option} must be a date such as 2026-01-31 or a date and time such as "
            f"2026-01-31T18:00:00+01:00 (got {value!r})."
        )
    if moment is None:
        assert day is not None
        start = day + timedelta(days=1) if end else day
        moment = datetime.combine(start, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "Export the evidence record of every case started in a date range, as JSON lines "
        "(default) or a JSON array, to stdout or a file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", required=True, help="First day (or moment) a case started, inclusive."
        )
        parser.add_argument(
            "--until",
            help="Last day a case started, inclusive (or a moment, exclusive); default: now.",
        )
        parser.add_argument(
            "--format",
            choices=["jsonl", "json"],
            default="jsonl",
            help="jsonl: one record per line (default); json: one array.",
        )
        parser.add_argument("--output", help="Write to this file instead of stdout.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=evidence.CHUNK_SIZE,
            help="Cases read and built together (bounds memory).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = parse_bound(options["since"], "--since", end=False)
        until = (
            parse_bound(options["until"], "--until", end=True)
            if options.get("until")
            else timezone.now()
        )
        if until <= since:
            raise CommandError("--until must come after --since.")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be 1 or more.")
        output = options.get("output")
        with contextlib.ExitStack() as stack:
            write: Callable[[str], Any]
            if output:
                try:
                    write = stack.enter_context(open(output, "w", encoding="utf-8")).write
                except OSError as error:
                    raise CommandError(f"Cannot write {output}: {error.strerror}.") from error
            else:
                write = lambda text: self.stdout.write(text, ending="")  # noqa: E731
            count = self._write(
                write,
                self._records(since, until, options["chunk_size"]),
                as_array=options["format"] == "json",
            )
        if output:
            self.stderr.write(f"Exported {count} evidence record(s) to {output}.")

    def _records(self, since: datetime, until: datetime, chunk_size: int) -> Iterator[dict]:
        for case, record in evidence.records_between(since, until, chunk_size=chunk_size):
            if case is not None:
                evidence.record_export(case, actor=ACTOR, export_format="command")
            yield record

    @staticmethod
    def _write(write: Callable[[str], Any], records: Iterator[dict], *, as_array: bool) -> int:
        count = 0
        if as_array:
            write("[")
        for record in records:
            text = json.dumps(record, ensure_ascii=False)
            if as_array:
                write(("\n" if count == 0 else ",\n") + text)
            else:
                write(text + "\n")
            count += 1
        if as_array:
            write("\n]\n" if count else "]\n")
        return count
