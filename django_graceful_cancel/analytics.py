"""Figures about cases: the API summary, the dashboard and the report command read them here.

Every function runs a fixed number of aggregate queries, whatever the number of cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from .choices import CaseStatus, OfferOutcome
from .models import CancellationCase, OfferPresentation


def cases_between(start: datetime | None = None, end: datetime | None = None) -> QuerySet:
    qs = CancellationCase.objects.all()
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs


def save_rate(saved: int, cancelled: int) -> float | None:
    """Saved cases over decided ones (saved + cancelled, reactivations count as cancellations)."""
    decided = saved + cancelled
    return round(saved / decided, 4) if decided else None


def summary(start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """Counts by status and reason, the save rate and offer acceptance (3 queries)."""
    cases = cases_between(start, end)
    by_status = dict.fromkeys(CaseStatus.values, 0)
    for row in cases.values("status").annotate(n=Count("pk")).order_by():
        by_status[row["status"]] = row["n"]
    by_reason = {
        (row["reason__slug"] or "none"): row["n"]
        for row in cases.values("reason__slug").annotate(n=Count("pk")).order_by("reason__slug")
    }
    offers = OfferPresentation.objects.filter(case__in=cases)
    offer_rows = (
        offers.values("offer__slug")
        .annotate(
            presented=Count("pk"),
            accepted=Count("pk", filter=Q(outcome=OfferOutcome.ACCEPTED)),
            declined=Count("pk", filter=Q(outcome=OfferOutcome.DECLINED)),
        )
        .order_by("offer__slug")
    )
    by_offer = {
        row["offer__slug"]: {
            "presented": row["presented"],
            "accepted": row["accepted"],
            "declined": row["declined"],
            "acceptance_rate": round(row["accepted"] / row["presented"], 4)
            if row["presented"]
            else None,
        }
        for row in offer_rows
    }
    presented = sum(o["presented"] for o in by_offer.values())
    accepted = sum(o["accepted"] for o in by_offer.values())
    cancelled = by_status[CaseStatus.CANCELLED] + by_status[CaseStatus.REACTIVATED]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_reason": by_reason,
        "save_rate": save_rate(by_status[CaseStatus.SAVED], cancelled),
        "offers": {
            "presented": presented,
            "accepted": accepted,
            "acceptance_rate": round(accepted / presented, 4) if presented else None,
            "by_offer": by_offer,
        },
    }
