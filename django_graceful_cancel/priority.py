"""How worth saving a case is: orders the staff queue. Replace with ``GRACEFUL_CANCEL["PRIORITY_RULE"]``.

A rule is a callable ``(case) -> int``; higher is more worth a staff member's time. It is evaluated
when the case starts and whenever its reason changes, and stored on ``CancellationCase.priority``
so the queue is one indexed query at any size.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .intervals import monthly_price

if TYPE_CHECKING:
    from .models import CancellationCase

# Reasons staff can act on weigh more; reasons where saving is wrong weigh nothing.
_REASON_WEIGHT = {
    "price": 3,
    "product": 3,
    "service": 4,
    "communication": 4,
    "competition": 3,
    "circumstances": 1,
    "other": 2,
}


def monthly_value(case: CancellationCase) -> Decimal:
    if case.price is None:
        return Decimal(0)
    # The one reading of intervals ("3 month" is a quarter; a week 12/52 of a month).
    return monthly_price(case.price, case.billing_interval)


def default_priority(case: CancellationCase) -> int:
    """Monthly value, times a tenure factor (loyal customers first), times a reason weight."""
    if case.reason is not None and not case.reason.offer_allowed:
        return 0
    value = monthly_value(case)
    tenure_years = Decimal(case.tenure_days or 0) / 365
    tenure_factor = 1 + min(tenure_years, Decimal(5)) / 5
    weight = _REASON_WEIGHT.get(case.reason.category, 2) if case.reason is not None else 2
    return int(value * tenure_factor * weight)
