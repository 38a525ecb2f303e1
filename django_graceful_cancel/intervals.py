"""Billing intervals as backends write them ("month", "3 month", "quarterly", "every 2 weeks").

One reading for every figure that turns a price into a monthly amount (the revenue figures, the
dashboard's offer value, the priority rule, the feedback digests) and for the pages that say
"per month" or "every 3 months". A backend writes the unit and, when a price bills every few
units, the count first: the Stripe backend writes ``"3 month"`` for ``interval=month,
interval_count=3`` (docs/backends.md, "SubscriptionInfo").
"""

from __future__ import annotations

import re
from decimal import Decimal

#: Months in one unit of a billing interval. A year is 12 months, a week 12/52 of a month and a
#: day 12/365: the usual MRR convention, so a weekly price of 10 is 43.33 a month, not 40.
MONTHS_PER_UNIT: dict[str, Decimal] = {
    "day": Decimal(12) / Decimal(365),
    "week": Decimal(12) / Decimal(52),
    "month": Decimal(1),
    "quarter": Decimal(3),
    "year": Decimal(12),
}
#: Other spellings backends write for the same units.
UNIT_ALIASES: dict[str, str] = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
}
#: "3 months", "3-month", "3month", "every 2 weeks", "month" (one), "quarterly".
_INTERVAL = re.compile(r"^(?:every\s+)?(?:(\d{1,3})\s*[-_ ]?\s*)?([a-z]+?)s?$")


def parse_interval(interval: str | None) -> tuple[int, str] | None:
    """``(count, unit)`` of an interval (``"3 month"`` gives ``(3, "month")``, ``"quarterly"``
    ``(1, "quarter")``); None when it is empty or not a unit of ``MONTHS_PER_UNIT``."""
    text = (interval or "").strip().lower()
    if not text:
        return None
    match = _INTERVAL.match(text)
    if match is None:
        return None
    count_text, unit = match.groups()
    unit = UNIT_ALIASES.get(unit, unit)
    count = int(count_text) if count_text else 1
    if unit not in MONTHS_PER_UNIT or count <= 0:
        return None
    return count, unit


def format_interval(unit: str, count: int = 1) -> str:
    """How a backend writes an interval: ``"month"`` for one, ``"3 month"`` for three."""
    return unit if count <= 1 else f"{count} {unit}"


def months_per_interval(interval: str | None) -> Decimal | None:
    """How many months one billing interval covers; None when it cannot be read (or is empty)."""
    parsed = parse_interval(interval)
    if parsed is None:
        return None
    count, unit = parsed
    return MONTHS_PER_UNIT[unit] * count


def monthly_price(price: Decimal, interval: str | None) -> Decimal:
    """``price`` per ``interval`` as a monthly amount, reading an empty or unreadable interval as
    a month (the value figures' convention: a case without an interval still weighs)."""
    return price / (months_per_interval(interval) or Decimal(1))
