"""The per-day rollups of the cases (``models.DailyRollup``): kept up to date, rebuilt, read.

Why: the dashboard, the summary API and the report used to group every case of the range on
each view, so their cost grew with the history (3.5 s at a million cases). They now read a few
rows per day, so the cost depends on the days in the range.

Narrow, not wide: each case is counted once in each *facet*, a small set of dimensions read
together (``FACETS``: status; reason and root cause; offer, outcome, status, interval and
currency; survey score; channel, plan, currency and interval). One row per combination of all
the dimensions would hold nearly one row per case (measured: 808,000 rows for a million cases),
and reading it would cost as much as reading the cases.

How they stay right, without a query on the customer's request path: every change of a case
writes a timeline event (``services.core.record``), and events have increasing keys. ``refresh``
recomputes, from the cases, every day (the day the case started, in the site's ``TIME_ZONE``)
touched by an event newer than the watermark, then moves the watermark up to the events older
than ``SETTLE_SECONDS`` (a transaction still open when the refresh ran may commit an event with
a smaller key later; it is seen on the next refresh). Readers call ``refresh`` first, so figures
are exact at the time they are read; the ``graceful_cancel_rebuild_rollups`` command (``--refresh``
for the bounded periodic run) recomputes them all from the cases.

A range whose ends are not midnights (the API accepts any datetime) is answered from the rollups
for its whole days and from the cases for the hours at either end (at most two days of cases).

Cases deleted by ``graceful_cancel_purge`` stay counted in the rollups of their days until the
next rebuild: the history of figures is kept, as the dashboard's past months should be.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.models import Count, F, Max, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import (
    CancellationCase,
    CaseEvent,
    DailyRollup,
    ExperimentAssignment,
    OfferPresentation,
    RollupWatermark,
    SaveCheck,
)

#: Events younger than this are read again by the next refresh (see the module's docstring).
SETTLE_SECONDS = 60
#: The facets: their dimensions (``DailyRollup``'s columns), as the case's fields.
FACETS: dict[str, dict[str, str]] = {
    "status": {"status": "status"},
    "reason": {"reason_id": "reason_id", "root_cause_id": "root_cause_id"},
    "offer": {
        "reason_id": "reason_id",
        "offer_id": "offer_presentation__offer_id",
        "offer_outcome": "offer_presentation__outcome",
        "status": "status",
        "billing_interval": "billing_interval",
        "currency": "currency",
    },
    "survey": {"survey_score": "survey_score"},
    "customer": {
        "channel": "preferred_channel",
        "plan": "plan",
        "currency": "currency",
        "billing_interval": "billing_interval",
    },
    # These two count rows of their own tables (a case has several save checks), by the day
    # their case started.
    "save_check": {"check_days": "days", "still_active": "still_active"},
    "experiment": {
        "experiment_id": "experiment_id",
        "variant_id": "variant_id",
        "is_holdout": "is_holdout",
        "status": "case__status",
    },
}
#: The facets counting rows of another table than the cases.
FACET_MODELS: dict[str, type[models.Model]] = {
    "save_check": SaveCheck,
    "experiment": ExperimentAssignment,
}
#: Which cases a facet counts (the others have nothing to say there).
FACET_FILTERS: dict[str, dict[str, Any]] = {
    "offer": {"offer_presentation__isnull": False},
    "survey": {"survey_score__isnull": False},
}


def local_day_start(day: date) -> datetime:
    """Midnight starting ``day`` in the site's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def case_rows(cases: QuerySet, facet: str, *, by_day: bool) -> list[dict[str, Any]]:
    """``cases`` grouped by the facet's dimensions (and local day with ``by_day``): one query.

    Each row: the dimensions under their rollup names, ``cases``, ``price`` (and ``day``).
    """
    fields = FACETS[facet]
    names: dict[str, Any] = {f"rollup_{name}": F(field) for name, field in fields.items()}
    model = FACET_MODELS.get(facet)
    rows = cases.filter(**FACET_FILTERS.get(facet, {}))
    case = ""
    if model is not None:
        rows = model._default_manager.filter(case__in=cases)
        case = "case__"
    if by_day:
        names["rollup_day"] = TruncDate(f"{case}created_at", tzinfo=timezone.get_default_timezone())
    grouped = (
        rows.annotate(**names)
        .values(*names)
        .annotate(rollup_cases=Count("pk"), rollup_price=Sum(f"{case}price"))
        .order_by()
    )
    found = []
    for row in grouped:
        item: dict[str, Any] = {name: row[f"rollup_{name}"] for name in fields}
        for name in ("offer_outcome", "channel", "plan", "currency", "billing_interval"):
            if name in item:
                item[name] = item[name] or ""
        if by_day:
            item["day"] = _as_date(row["rollup_day"])
        item["cases"] = row["rollup_cases"]
        item["price"] = row["rollup_price"] or Decimal(0)
        found.append(item)
    return found


def _rollups_of(cases: QuerySet, *, by_day: bool = True) -> Iterator[DailyRollup]:
    for facet in FACETS:
        for row in case_rows(cases, facet, by_day=by_day):
            yield DailyRollup(facet=facet, **row)


def _days_filter(days: Iterable[date]) -> QuerySet:
    """The cases started on any of ``days`` (local), one range per run of consecutive days."""
    from django.db.models import Q

    condition = Q(pk__in=[])
    ordered = sorted(set(days))
    run: list[date] = []
    for day in [*ordered, None]:
        if run and (day is None or day != run[-1] + timedelta(days=1)):
            condition |= Q(
                created_at__gte=local_day_start(run[0]),
                created_at__lt=local_day_start(run[-1] + timedelta(days=1)),
            )
            run = []
        if day is not None:
            run.append(day)
    return CancellationCase.objects.filter(condition)


def recompute_days(days: Iterable[date], *, batch_size: int = 2000) -> int:
    """Replace the rollups of ``days`` with what the cases say now; returns the rows written."""
    days = sorted(set(days))
    if not days:
        return 0
    with transaction.atomic():
        DailyRollup.objects.filter(day__in=days).delete()
        rows = list(_rollups_of(_days_filter(days)))
        DailyRollup.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


#: What can change a day's figures, each with its own watermark: the timeline (every change
#: made through the services), new cases and new offer presentations (bulk loads and imports
#: that bypass the services). ``(watermark name, model, the case's start, the row's own time)``.
SOURCES: tuple[tuple[str, type[models.Model], str, str], ...] = (
    ("events", CaseEvent, "case__created_at", "created_at"),
    ("cases", CancellationCase, "created_at", "updated_at"),
    ("presentations", OfferPresentation, "case__created_at", "presented_at"),
    ("save_checks", SaveCheck, "case__created_at", "checked_at"),
    ("assignments", ExperimentAssignment, "case__created_at", "assigned_at"),
)


def _marks() -> dict[str, RollupWatermark]:
    """The watermarks, locked: one query once they exist (three the first time)."""
    names = [name for name, *_rest in SOURCES]
    locked = RollupWatermark.objects.select_for_update().filter(name__in=names)
    marks = {m.name: m for m in locked}
    if len(marks) < len(names):
        RollupWatermark.objects.bulk_create(
            [RollupWatermark(name=name) for name in names if name not in marks],
            ignore_conflicts=True,
        )
        marks = {m.name: m for m in locked.all()}
    return marks


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def refresh(*, settle_seconds: int = SETTLE_SECONDS, max_days: int | None = None) -> int:
    """Bring the rollups up to date; returns how many days were recomputed.

    One indexed query per source when nothing changed. Bounded: with ``max_days``, at most that
    many days are recomputed per call (the oldest first) and the watermarks then stay where
    they are, so a periodic task never runs long and the next call goes on.
    """
    zone = timezone.get_default_timezone()
    settled_before = timezone.now() - timedelta(seconds=settle_seconds)
    with transaction.atomic():
        marks = _marks()
        days: set[date] = set()
        moves: dict[str, int] = {}
        for name, model, started, own_time in SOURCES:
            newer = model._default_manager.filter(pk__gt=marks[name].last_event_id)
            touched = (
                newer.annotate(rollup_day=TruncDate(started, tzinfo=zone))
                .values("rollup_day")
                .annotate(top=Max("pk"))
                .order_by()
            )
            found = {_as_date(row["rollup_day"]) for row in touched if row["rollup_day"]}
            if not found:
                continue
            days |= found
            settled = newer.filter(**{f"{own_time}__lt": settled_before}).aggregate(top=Max("pk"))[
                "top"
            ]
            if settled is not None:
                moves[name] = settled
        if not days:
            return 0
        ordered = sorted(days)
        if max_days is not None and len(ordered) > max_days:
            ordered = ordered[:max_days]
            moves = {}  # only part of the days: the same rows are read again next time
        recompute_days(ordered)
        for name, top in moves.items():
            marks[name].last_event_id = top
            marks[name].save(update_fields=["last_event_id", "updated_at"])
    return len(ordered)


def rebuild(*, batch_size: int = 5000) -> int:
    """Recompute every rollup from the cases (and move the watermarks to the latest rows);
    returns the rows written."""
    with transaction.atomic():
        marks = _marks()
        tops = {
            name: model._default_manager.aggregate(top=Max("pk"))["top"] or 0
            for name, model, *_rest in SOURCES
        }
        DailyRollup.objects.all().delete()
        written = 0
        batch: list[DailyRollup] = []
        for row in _rollups_of(CancellationCase.objects.all()):
            batch.append(row)
            if len(batch) >= batch_size:
                DailyRollup.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        DailyRollup.objects.bulk_create(batch)
        written += len(batch)
        for name, top in tops.items():
            marks[name].last_event_id = top
            marks[name].save(update_fields=["last_event_id", "updated_at"])
    return written


# --- reading ----------------------------------------------------------------------------------


def whole_days(
    start: datetime | None, end: datetime | None
) -> tuple[tuple[date | None, date | None] | None, list[tuple[datetime | None, datetime | None]]]:
    """The whole local days ``[first, last)`` inside ``[start, end)`` (None: there are none;
    a None bound: open), and the partial edges left over, as datetime ranges."""
    first = last = None
    if start is not None:
        first = _local_date(start)
        if local_day_start(first) < start:
            first += timedelta(days=1)
    if end is not None:
        last = _local_date(end)
    if first is not None and last is not None and first >= last:
        return None, [(start, end)]
    edges: list[tuple[datetime | None, datetime | None]] = []
    if first is not None and start is not None and start < local_day_start(first):
        edges.append((start, local_day_start(first)))
    if last is not None and end is not None and local_day_start(last) < end:
        edges.append((local_day_start(last), end))
    return (first, last), edges


def facet_between(
    start: datetime | None,
    end: datetime | None,
    facet: str,
    *,
    by_day: bool = False,
    refreshed: bool = False,
) -> list[dict[str, Any]]:
    """The facet's rows for the cases started in ``[start, end)``, grouped in the database:
    rollups for the whole days, the cases for partial edges. Refreshes first unless
    ``refreshed``. One query, plus one per partial edge."""
    if not refreshed:
        refresh()
    days, edges = whole_days(start, end)
    keys = [*FACETS[facet], *(["day"] if by_day else [])]
    found: list[dict[str, Any]] = []
    if days is not None:
        first, last = days
        rollups = DailyRollup.objects.filter(facet=facet)
        if first is not None:
            rollups = rollups.filter(day__gte=first)
        if last is not None:
            rollups = rollups.filter(day__lt=last)
        for row in rollups.values(*keys).annotate(n=Sum("cases"), total=Sum("price")).order_by():
            found.append(
                {
                    **{key: row[key] for key in keys},
                    "cases": row["n"],
                    "price": row["total"] or Decimal(0),
                }
            )
    for edge_start, edge_end in edges:
        cases = CancellationCase.objects.all()
        if edge_start is not None:
            cases = cases.filter(created_at__gte=edge_start)
        if edge_end is not None:
            cases = cases.filter(created_at__lt=edge_end)
        found.extend(case_rows(cases, facet, by_day=by_day))
    return found
