"""Win-back figures for the dashboard (docs/returns.md, "What the dashboard shows").

For the cases started in ``[start, end)``:

* **returns**: cases whose customer came back through a come-back link (``CaseReturn`` with status
  ``returned``), by where the link was (a message or the receipt page) and by channel;
* **lift**: among cases with a win-back arm (drawn when their follow-ups were planned), the share
  that came back in the win-back group and in the holdout (no win-back message), the difference
  and its 95% interval (Newcombe's method 10, ``analytics.newcombe_interval``): the holdout counts
  the customers who would have come back anyway;
* **by message, reason and offer**: win-back messages that went out (sent, delivered or opened),
  and the returns attributed to them (the come-back link of that very message), with each rate's
  95% Wilson interval. "By offer" groups by the offer the case's win-back arm carries (none
  included).

A fixed number of aggregate queries, whatever the number of cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from ..analytics import newcombe_interval, wilson_interval
from ..choices import FollowUpStatus, ReturnStatus
from ..followups.sequences import WINBACK_STAGES
from ..models import CaseReturn, FollowUp, Reason, WinbackArm

#: A message counts as sent once it left, whatever the provider reported next.
SENT = (FollowUpStatus.SENT, FollowUpStatus.DELIVERED, FollowUpStatus.OPENED)


def _via_case(start: datetime | None, end: datetime | None) -> dict[str, Any]:
    via: dict[str, Any] = {}
    if start is not None:
        via["case__created_at__gte"] = start
    if end is not None:
        via["case__created_at__lt"] = end
    return via


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _with_interval(row: dict[str, Any], returned: int, sent: int) -> dict[str, Any]:
    interval = wilson_interval(returned, sent)
    row.update(
        sent=sent,
        returned=returned,
        rate=_rate(returned, sent),
        low=round(interval[0], 4) if interval else None,
        high=round(interval[1], 4) if interval else None,
    )
    return row


def lift(via: dict[str, Any]) -> dict[str, Any]:
    """Return rates of the win-back group and of the holdout, and the difference with its 95%
    interval (None until both groups have cases)."""
    came_back = Q(case__case_return__status=ReturnStatus.RETURNED)
    groups = {
        row["is_holdout"]: (row["n"], row["back"])
        for row in WinbackArm.objects.filter(**via)
        .values("is_holdout")
        .annotate(n=Count("pk"), back=Count("pk", filter=came_back))
        .order_by()
    }
    n1, k1 = groups.get(False, (0, 0))
    n2, k2 = groups.get(True, (0, 0))
    interval = newcombe_interval(k1, n1, k2, n2)
    return {
        "winback": {"cases": n1, "returned": k1, "rate": _rate(k1, n1)},
        "holdout": {"cases": n2, "returned": k2, "rate": _rate(k2, n2)},
        "lift": round(k1 / n1 - k2 / n2, 4) if interval is not None else None,
        "lift_low": round(interval[0], 4) if interval is not None else None,
        "lift_high": round(interval[1], 4) if interval is not None else None,
    }


def _sent_messages(via: dict[str, Any]) -> QuerySet[FollowUp]:
    """The win-back messages that went out, each with ``back``: a return came from its link."""
    stages = sorted(WINBACK_STAGES)
    attributed = CaseReturn.objects.filter(followup_id=OuterRef("pk"), status=ReturnStatus.RETURNED)
    return (
        FollowUp.objects.filter(**via, status__in=SENT)
        .filter(Q(stage__in=stages) | Q(template__in=stages))
        .alias(back=Exists(attributed))
    )


def figures(start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """Every win-back figure for cases started in ``[start, end)`` (see the module doc)."""
    via = _via_case(start, end)
    returns = CaseReturn.objects.filter(**via, status=ReturnStatus.RETURNED)
    by_source = {
        row["source"] or "message": row["n"]
        for row in returns.values("source").annotate(n=Count("pk")).order_by()
    }
    by_channel = {
        row["channel"]: row["n"]
        for row in returns.exclude(channel="").values("channel").annotate(n=Count("pk")).order_by()
    }
    messages = _sent_messages(via)
    by_message = [
        _with_interval({"stage": row["stage"], "channel": row["channel"]}, row["r"], row["n"])
        for row in messages.values("stage", "channel")
        .annotate(n=Count("pk"), r=Count("pk", filter=Q(back=True)))
        .order_by("stage", "channel")
    ]
    reasons = {r.pk: r for r in Reason.objects.only("pk", "slug", "label", "translations")}
    by_reason = []
    for row in (
        messages.values("case__reason_id")
        .annotate(n=Count("pk"), r=Count("pk", filter=Q(back=True)))
        .order_by("case__reason_id")
    ):
        reason = reasons.get(row["case__reason_id"])
        item = {
            "reason": reason.slug if reason else None,
            "label": str(reason.localized_label) if reason else "",
        }
        by_reason.append(_with_interval(item, row["r"], row["n"]))
    by_offer = []
    for offer_row in (
        messages.values(
            "case__winback_arm__offer_id",
            "case__winback_arm__offer__slug",
            "case__winback_arm__offer__title",
        )
        .annotate(n=Count("pk"), r=Count("pk", filter=Q(back=True)))
        .order_by("case__winback_arm__offer_id")
    ):
        item = {
            "offer": offer_row["case__winback_arm__offer__slug"],
            "title": offer_row["case__winback_arm__offer__title"] or "",
        }
        by_offer.append(_with_interval(item, offer_row["r"], offer_row["n"]))
    return {
        "returned": sum(by_source.values()),
        "pending": CaseReturn.objects.filter(**via, status=ReturnStatus.PENDING).count(),
        "by_source": by_source,
        "by_channel": by_channel,
        "lift": lift(via),
        "by_message": by_message,
        "by_reason": by_reason,
        "by_offer": by_offer,
    }
