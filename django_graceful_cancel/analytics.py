"""Figures about cases: the API summary, the dashboard and the report command read them here.

``summary`` and the case sections of ``dashboard`` read the per-day rollups
(``services.rollups``): their cost depends on the days in the range, not on the cases. The same
figures computed from the cases themselves (``summary_from_cases``, ``case_sections_from_cases``)
are kept as the reference the rollups are tested against. The sections about other tables
(follow-ups, save checks, experiments, fulfilment) run a fixed number of aggregate queries.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .choices import CaseStatus, FulfilmentStatus, OfferOutcome
from .conf import app_settings
from .intervals import monthly_price
from .models import (
    CancellationCase,
    ExperimentAssignment,
    FulfilmentTask,
    OfferPresentation,
    Reason,
    RetentionOffer,
    SaveCheck,
)
from .services import rollups


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


def _via_case(start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """The date range as filters on a model related to the case.

    A join on the case's date is several times faster on PostgreSQL than ``case__in=<subquery>``.
    """
    via: dict[str, Any] = {}
    if start is not None:
        via["case__created_at__gte"] = start
    if end is not None:
        via["case__created_at__lt"] = end
    return via


def summary(start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """Counts by status and reason, the save rate and offer acceptance, from the rollups."""
    return summary_from_facets(
        rollups.facet_between(start, end, "status"),
        rollups.facet_between(start, end, "reason", refreshed=True),
        rollups.facet_between(start, end, "offer", refreshed=True),
        _catalogue_names(),
    )


def summary_from_cases(
    start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """``summary`` computed from the cases (3 queries over the range): the reference."""
    cases = cases_between(start, end)
    by_status = dict.fromkeys(CaseStatus.values, 0)
    for row in cases.values("status").annotate(n=Count("pk")).order_by():
        by_status[row["status"]] = row["n"]
    by_reason = {
        (row["reason__slug"] or "none"): row["n"]
        for row in cases.values("reason__slug").annotate(n=Count("pk")).order_by("reason__slug")
    }
    offers = OfferPresentation.objects.filter(**_via_case(start, end))
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


# --- Figures from rollup rows -----------------------------------------------------------------
# The same figures as the functions computing them from the cases (their reference), from the
# rows ``services.rollups.rows_between`` returns: each case counted once, with its dimensions.


def _catalogue_names() -> tuple[dict[int, Reason], dict[int, RetentionOffer]]:
    """Every reason and offer by key (2 small queries), to name the rows' ids."""
    reasons = {r.pk: r for r in Reason.objects.only("pk", "slug", "label", "translations")}
    offers = {
        o.pk: o
        for o in RetentionOffer.objects.only(
            "pk", "slug", "title", "translations", "kind", "parameters"
        )
    }
    return reasons, offers


def summary_from_facets(
    statuses: list[dict[str, Any]],
    reason_rows: list[dict[str, Any]],
    offer_rows: list[dict[str, Any]],
    names: tuple[dict[int, Reason], dict[int, RetentionOffer]],
) -> dict[str, Any]:
    """``summary`` from the rollups' status, reason and offer facets."""
    reasons, offers = names
    by_status = dict.fromkeys(CaseStatus.values, 0)
    for row in statuses:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["cases"]
    by_reason: dict[str, int] = {}
    for row in reason_rows:
        reason = reasons.get(row["reason_id"]) if row["reason_id"] is not None else None
        slug = reason.slug if reason is not None else "none"
        by_reason[slug] = by_reason.get(slug, 0) + row["cases"]
    figures: dict[str, dict[str, int]] = {}
    for row in offer_rows:
        offer = offers.get(row["offer_id"])
        figure = figures.setdefault(
            offer.slug if offer is not None else str(row["offer_id"]),
            {"presented": 0, "accepted": 0, "declined": 0},
        )
        figure["presented"] += row["cases"]
        if row["offer_outcome"] == OfferOutcome.ACCEPTED:
            figure["accepted"] += row["cases"]
        elif row["offer_outcome"] == OfferOutcome.DECLINED:
            figure["declined"] += row["cases"]
    by_offer: dict[str, dict[str, Any]] = {
        slug: {**f, "acceptance_rate": _rate(f["accepted"], f["presented"])}
        for slug, f in sorted(figures.items())
    }
    presented = sum(f["presented"] for f in figures.values())
    accepted = sum(f["accepted"] for f in figures.values())
    cancelled = by_status[CaseStatus.CANCELLED] + by_status[CaseStatus.REACTIVATED]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_reason": dict(sorted(by_reason.items())),
        "save_rate": save_rate(by_status[CaseStatus.SAVED], cancelled),
        "offers": {
            "presented": presented,
            "accepted": accepted,
            "acceptance_rate": round(accepted / presented, 4) if presented else None,
            "by_offer": by_offer,
        },
    }


def _over_time_from_rows(
    day_rows: list[dict[str, Any]], start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    span = (end - start).days if start and end else 366
    unit = "day" if span <= 62 else "month"
    buckets: dict[str, dict[str, int]] = {}
    for row in day_rows:
        day: date = row["day"]
        label = day.isoformat() if unit == "day" else day.strftime("%Y-%m")
        bucket = buckets.setdefault(label, {"cases": 0, "cancelled": 0, "saved": 0})
        bucket["cases"] += row["cases"]
        if row["status"] == CaseStatus.SAVED:
            bucket["saved"] += row["cases"]
        elif row["status"] in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED):
            bucket["cancelled"] += row["cases"]
    return {
        "unit": unit,
        "points": [
            {"period": label, **b, "save_rate": save_rate(b["saved"], b["cancelled"])}
            for label, b in sorted(buckets.items())
        ],
    }


def _reasons_from_rows(rows: list[dict[str, Any]], reasons: dict[int, Reason]) -> dict[str, Any]:
    grouped: dict[tuple[int | None, int | None], int] = {}
    for row in rows:
        key = (row["reason_id"], row["root_cause_id"])
        grouped[key] = grouped.get(key, 0) + row["cases"]
    return _reasons_from_pairs(grouped, reasons)


def _offers_by_reason_from_rows(
    rows: list[dict[str, Any]], reasons: dict[int, Reason], offers: dict[int, RetentionOffer]
) -> list[dict[str, Any]]:
    grouped: dict[tuple[int | None, int], dict[str, int]] = {}
    for row in rows:
        figure = grouped.setdefault(
            (row["reason_id"], row["offer_id"]), {"presented": 0, "accepted": 0}
        )
        figure["presented"] += row["cases"]
        if row["offer_outcome"] == OfferOutcome.ACCEPTED:
            figure["accepted"] += row["cases"]
    return _offers_by_reason_rows(grouped, reasons, offers)


def _revenue_from_rows(
    rows: list[dict[str, Any]], offers: dict[int, RetentionOffer]
) -> dict[str, Any]:
    grouped: dict[tuple[int, str, str], dict[str, Any]] = {}
    for row in rows:
        if row["offer_outcome"] != OfferOutcome.ACCEPTED or row["status"] != CaseStatus.SAVED:
            continue
        slot = grouped.setdefault(
            (row["offer_id"], row["billing_interval"], row["currency"]),
            {"n": 0, "price": Decimal(0)},
        )
        slot["n"] += row["cases"]
        slot["price"] += row["price"]
    return _revenue_from_groups(grouped, offers)


def _surveys_from_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scores: dict[int, int] = {}
    for row in rows:
        scores[row["survey_score"]] = scores.get(row["survey_score"], 0) + row["cases"]
    return _surveys_from_scores(dict(sorted(scores.items())))


def _decided_mature(start: datetime | None, end: datetime | None, cutoff: datetime) -> int:
    """Decided cases started in the range on or before ``cutoff``: rollups for the whole days,
    the cases for the cutoff's own day."""
    bound = cutoff + timedelta(microseconds=1)
    if end is not None:
        bound = min(end, bound)
    decided = (CaseStatus.SAVED, CaseStatus.CANCELLED, CaseStatus.REACTIVATED)
    return sum(
        row["cases"]
        for row in rollups.facet_between(start, bound, "status", refreshed=True)
        if row["status"] in decided
    )


def _save_checks_from_facet(rows: list[dict[str, Any]], decided_mature: int) -> dict[str, Any]:
    grouped: dict[int, list[int]] = {}
    for row in rows:
        slot = grouped.setdefault(row["check_days"], [0, 0])
        slot[0] += row["cases"]
        if row["still_active"]:
            slot[1] += row["cases"]
    return _save_checks_from_counts(
        [(days, checked, active) for days, (checked, active) in grouped.items()], decided_mature
    )


def _experiments_from_facet(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The experiments section from the rollups' experiment facet, named from the catalogue
    (every experiment and variant: 2 small queries when there are rows)."""
    grouped: dict[tuple[int, int | None, bool], list[int]] = {}
    for row in rows:
        if row["status"] == CaseStatus.OPEN:
            continue
        slot = grouped.setdefault(
            (row["experiment_id"], row["variant_id"], bool(row["is_holdout"])), [0, 0]
        )
        slot[0] += row["cases"]
        if row["status"] in RETAINED_STATUSES:
            slot[1] += row["cases"]
    if not grouped:
        return []
    from .models import ExperimentVariant, OfferExperiment

    experiments = {e.pk: e for e in OfferExperiment.objects.all()}
    variants = {v.pk: v for v in ExperimentVariant.objects.select_related("offer")}
    named = []
    for (experiment_id, variant_id, is_holdout), (n, kept) in sorted(
        grouped.items(), key=lambda item: (item[0][0], item[0][1] is not None, item[0][1] or 0)
    ):
        experiment = experiments.get(experiment_id)
        if experiment is None:
            continue  # deleted since (its arms went with it): the next refresh drops the row
        variant = variants.get(variant_id) if variant_id is not None else None
        named.append(
            {
                "experiment_id": experiment_id,
                "experiment__name": experiment.name,
                "experiment__holdout_percent": experiment.holdout_percent,
                "variant_id": variant_id,
                "variant__offer__slug": variant.offer.slug if variant else None,
                "variant__offer__title": variant.offer.title if variant else None,
                "variant__offer__translations": variant.offer.translations if variant else None,
                "is_holdout": is_holdout,
                "n": n,
                "kept": kept,
            }
        )
    return _experiments_from_rows(named)


def case_sections(
    start: datetime | None,
    end: datetime | None,
    names: tuple[dict[int, Reason], dict[int, RetentionOffer]],
) -> dict[str, Any]:
    """Every dashboard section about the cases themselves, from the rollups: one grouped read
    of each facet (status by day, reasons, offers, surveys) and one for the save checks'
    cutoff."""
    reasons, offers = names
    statuses = rollups.facet_between(start, end, "status", by_day=True)
    reason_rows = rollups.facet_between(start, end, "reason", refreshed=True)
    offer_rows = rollups.facet_between(start, end, "offer", refreshed=True)
    base = summary_from_facets(statuses, reason_rows, offer_rows, names)
    by_status = base["by_status"]
    cancelled = by_status[CaseStatus.CANCELLED] + by_status[CaseStatus.REACTIVATED]
    mature_cutoff = timezone.now() - timedelta(days=max(app_settings.SAVE_CHECK_DAYS))
    return {
        "summary": base,
        "over_time": _over_time_from_rows(statuses, start, end),
        "reasons": _reasons_from_rows(reason_rows, reasons),
        "offers_by_reason": _offers_by_reason_from_rows(offer_rows, reasons, offers),
        "surveys": _surveys_from_rows(rollups.facet_between(start, end, "survey", refreshed=True)),
        "reactivations": {
            "reactivated": by_status[CaseStatus.REACTIVATED],
            "cancelled": cancelled,
            "win_back_rate": _rate(by_status[CaseStatus.REACTIVATED], cancelled),
        },
        "revenue": _revenue_from_rows(offer_rows, offers),
        "save_checks": _save_checks_from_facet(
            rollups.facet_between(start, end, "save_check", refreshed=True),
            _decided_mature(start, end, mature_cutoff),
        ),
        "experiments": _experiments_from_facet(
            rollups.facet_between(start, end, "experiment", refreshed=True)
        ),
    }


def case_sections_from_cases(
    start: datetime | None,
    end: datetime | None,
    names: tuple[dict[int, Reason], dict[int, RetentionOffer]],
) -> dict[str, Any]:
    """``case_sections`` computed from the cases: the reference the rollups are tested against
    (and what the dashboard computed before the rollups)."""
    reasons, offers = names
    cases = cases_between(start, end)
    via = _via_case(start, end)
    base = summary_from_cases(start, end)
    by_status = base["by_status"]
    cancelled = by_status[CaseStatus.CANCELLED] + by_status[CaseStatus.REACTIVATED]
    mature_cutoff = timezone.now() - timedelta(days=max(app_settings.SAVE_CHECK_DAYS))
    decided_mature = cases.filter(
        created_at__lte=mature_cutoff,
        status__in=[CaseStatus.SAVED, CaseStatus.CANCELLED, CaseStatus.REACTIVATED],
    ).count()
    return {
        "summary": base,
        "over_time": _over_time(cases, start, end),
        "reasons": _reasons(cases, reasons),
        "offers_by_reason": _offers_by_reason(via, reasons, offers),
        "surveys": _surveys(cases),
        "reactivations": {
            "reactivated": by_status[CaseStatus.REACTIVATED],
            "cancelled": cancelled,
            "win_back_rate": _rate(by_status[CaseStatus.REACTIVATED], cancelled),
        },
        "revenue": _revenue_kept(via, offers),
        "save_checks": _save_checks(via, decided_mature),
        "experiments": _experiments(via),
    }


# --- The dashboard ------------------------------------------------------------------------------
# Everything below feeds the admin dashboard, its CSV export and graceful_cancel_report. Each
# section is one or two aggregate queries; dashboard() runs the same number whatever the data.

#: Cases whose customer kept the subscription: took an offer, walked away from the flow without
#: cancelling, or came back after cancelling. Used to compare experiment arms, where the holdout
#: has no offer to accept and "saved" alone would make the comparison meaningless.
RETAINED_STATUSES = (CaseStatus.SAVED, CaseStatus.ABANDONED, CaseStatus.REACTIVATED)

#: Follow-up statuses in funnel order; a row in a later stage has passed the earlier ones.
FUNNEL_STAGES = ("created", "sent", "delivered", "opened")
_FUNNEL_REACHED = {
    "created": None,  # every row
    "sent": {"sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed"},
    "delivered": {"delivered", "opened", "clicked", "unsubscribed"},
    "opened": {"opened", "clicked"},
}


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (95% by default); None without observations."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    k1: int, n1: int, k2: int, n2: int, z: float = 1.959964
) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval (his method 10) of the difference p1 - p2."""
    first, second = wilson_interval(k1, n1, z), wilson_interval(k2, n2, z)
    if first is None or second is None:
        return None
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = first, second
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper


def offer_cost_factors(kind: str, parameters: dict[str, Any] | None) -> tuple[Decimal, Decimal]:
    """``(months of the customer's price given away, fixed cost)`` of one accepted offer.

    * a ``"cost"`` parameter (a fixed amount per acceptance, in the case's currency) wins;
    * discount: ``percent_off / 100 * duration_months`` months (duration 1 when not given);
    * pause: ``months`` (or ``days / 30``) months not billed;
    * extension: ``days / 30`` (or ``months``) months given free;
    * downgrade, free feature, consultation: no cost unless ``"cost"`` says so.
    """
    params = parameters or {}

    def number(key: str, default: Any = 0) -> Decimal:
        try:
            return Decimal(str(params.get(key, default) or 0))
        except ArithmeticError:
            return Decimal(0)

    if params.get("cost") not in (None, ""):
        return Decimal(0), number("cost")
    if kind == "discount":
        return number("percent_off") / 100 * number("duration_months", 1), Decimal(0)
    if kind in ("pause", "extension"):
        if params.get("days"):
            return number("days") / 30, Decimal(0)
        return number("months", 1 if kind == "pause" else 0), Decimal(0)
    return Decimal(0), Decimal(0)


def _localized(title: str, translations: dict[str, Any] | None) -> str:
    """An offer's title in the active language, from a ``values()`` row (see TranslatableMixin)."""
    language = (get_language() or "").lower()
    for code in (language, language.split("-")[0]):
        value = ((translations or {}).get(code) or {}).get("title")
        if value:
            return str(value)
    return title or ""


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _over_time(cases: QuerySet, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    span = (end - start).days if start and end else 366
    unit = "day" if span <= 62 else "month"
    trunc = TruncDate("created_at") if unit == "day" else TruncMonth("created_at")
    rows = (
        cases.annotate(bucket=trunc)
        .values("bucket")
        .annotate(
            total=Count("pk"),
            saved=Count("pk", filter=Q(status=CaseStatus.SAVED)),
            cancelled=Count(
                "pk", filter=Q(status__in=[CaseStatus.CANCELLED, CaseStatus.REACTIVATED])
            ),
        )
        .order_by("bucket")
    )
    points = []
    for row in rows:
        bucket = row["bucket"]
        if isinstance(bucket, datetime):
            bucket = bucket.date()
        label = bucket.isoformat() if unit == "day" else bucket.strftime("%Y-%m")
        points.append(
            {
                "period": label,
                "cases": row["total"],
                "cancelled": row["cancelled"],
                "saved": row["saved"],
                "save_rate": save_rate(row["saved"], row["cancelled"]),
            }
        )
    return {"unit": unit, "points": points}


def _reasons(cases: QuerySet, reasons: dict[int, Reason]) -> dict[str, Any]:
    grouped = {
        (row["reason_id"], row["root_cause_id"]): row["n"]
        for row in cases.values("reason_id", "root_cause_id").annotate(n=Count("pk")).order_by()
    }
    return _reasons_from_pairs(grouped, reasons)


def _reasons_from_pairs(
    grouped: dict[tuple[int | None, int | None], int], reasons: dict[int, Reason]
) -> dict[str, Any]:
    labels = {pk: (r.slug, r.localized_label) for pk, r in reasons.items()}
    stated: dict[str, int] = {}
    root: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    for (reason_id, root_cause_id), n in grouped.items():
        reason = labels.get(reason_id, ("none", ""))[0]  # type: ignore[arg-type]
        stated[reason] = stated.get(reason, 0) + n
        if root_cause_id is not None:
            cause = labels.get(root_cause_id, ("none", ""))[0]
            root[cause] = root.get(cause, 0) + n
            pairs[(reason, cause)] = pairs.get((reason, cause), 0) + n
    slugs = [slug for slug, _label in sorted(labels.values())]
    order = [s for s in slugs if s in stated or s in root] + (["none"] if "none" in stated else [])
    label_of = dict(labels.values())
    return {
        "rows": [
            {
                "reason": slug,
                "label": label_of.get(slug, "") or str(_("No reason given")),
                "stated": stated.get(slug, 0),
                "root_cause": root.get(slug, 0),
            }
            for slug in sorted(order, key=lambda s: (-stated.get(s, 0), s))
        ],
        "with_root_cause": sum(root.values()),
        "pairs": [
            {"stated": s, "root_cause": c, "cases": n}
            for (s, c), n in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def _offers_by_reason(
    via: dict[str, Any], reasons: dict[int, Reason], offers: dict[int, RetentionOffer]
) -> list[dict[str, Any]]:
    # Grouped by ids, named from the catalogue in Python: joining the names costs a third more.
    rows = (
        OfferPresentation.objects.filter(**via)
        .values("case__reason_id", "offer_id")
        .annotate(
            presented=Count("pk"),
            accepted=Count("pk", filter=Q(outcome=OfferOutcome.ACCEPTED)),
        )
        .order_by()
    )
    grouped: dict[tuple[int | None, int], dict[str, int]] = {
        (row["case__reason_id"], row["offer_id"]): {
            "presented": row["presented"],
            "accepted": row["accepted"],
        }
        for row in rows
    }
    return _offers_by_reason_rows(grouped, reasons, offers)


def _offers_by_reason_rows(
    grouped: dict[tuple[int | None, int], dict[str, int]],
    reasons: dict[int, Reason],
    offers: dict[int, RetentionOffer],
) -> list[dict[str, Any]]:
    found = []
    for (reason_id, offer_id), figure in grouped.items():
        reason = reasons.get(reason_id) if reason_id is not None else None
        offer = offers[offer_id]
        found.append(
            {
                "reason": reason.slug if reason is not None else "none",
                "offer": offer.slug,
                "title": offer.localized_title,
                "presented": figure["presented"],
                "accepted": figure["accepted"],
                "acceptance_rate": _rate(figure["accepted"], figure["presented"]),
            }
        )
    return sorted(found, key=lambda r: (r["reason"], r["offer"]))


def _revenue_kept(via: dict[str, Any], offers: dict[int, RetentionOffer]) -> dict[str, Any]:
    """Per currency: months of price kept by saves, minus what the accepted offers gave away."""
    rows = (
        OfferPresentation.objects.filter(
            **via, outcome=OfferOutcome.ACCEPTED, case__status=CaseStatus.SAVED
        )
        .values("offer_id", "case__billing_interval", "case__currency")
        .annotate(n=Count("pk"), price=Sum("case__price"))
        .order_by()
    )
    grouped: dict[tuple[int, str, str], dict[str, Any]] = {}
    for row in rows:
        slot = grouped.setdefault(
            (row["offer_id"], row["case__billing_interval"] or "", row["case__currency"] or ""),
            {"n": 0, "price": Decimal(0)},
        )
        slot["n"] += row["n"]
        slot["price"] += row["price"] or Decimal(0)
    return _revenue_from_groups(grouped, offers)


def _revenue_from_groups(
    grouped: dict[tuple[int, str, str], dict[str, Any]], offers: dict[int, RetentionOffer]
) -> dict[str, Any]:
    horizon = Decimal(app_settings.REVENUE_HORIZON_MONTHS)
    totals: dict[str, dict[str, Decimal]] = {}
    for (offer_id, interval, currency), slot in sorted(grouped.items()):
        monthly = monthly_price(slot["price"], interval)
        offer = offers[offer_id]
        factor, fixed = offer_cost_factors(offer.kind, offer.parameters)
        money = totals.setdefault(
            currency, {"saves": Decimal(0), "gross": Decimal(0), "offer_cost": Decimal(0)}
        )
        money["saves"] += slot["n"]
        money["gross"] += monthly * horizon
        money["offer_cost"] += monthly * factor + fixed * slot["n"]
    return {
        "horizon_months": int(horizon),
        "by_currency": {
            currency: {
                "saves": int(m["saves"]),
                "gross": _money(m["gross"]),
                "offer_cost": _money(m["offer_cost"]),
                "net": _money(m["gross"] - m["offer_cost"]),
            }
            for currency, m in sorted(totals.items())
        },
    }


def _follow_up_funnel(via: dict[str, Any]) -> dict[str, Any] | None:
    """Follow-up rows by status, when the follow-up outbox (issue 5) is installed."""
    from django.apps import apps

    try:
        model = apps.get_model("graceful_cancel", "FollowUp")
    except LookupError:
        return None
    by_status: dict[str, int] = {}
    for row in model.objects.filter(**via).values("status").annotate(n=Count("pk")).order_by():
        by_status[row["status"]] = row["n"]
    total = sum(by_status.values())
    stages = []
    for stage in FUNNEL_STAGES:
        reached = _FUNNEL_REACHED[stage]
        count = total if reached is None else sum(by_status.get(s, 0) for s in reached)
        stages.append({"stage": stage, "count": count, "share": _rate(count, total)})
    return {"by_status": by_status, "stages": stages}


def _surveys(cases: QuerySet) -> dict[str, Any]:
    scores = {
        row["survey_score"]: row["n"]
        for row in cases.filter(survey_score__isnull=False)
        .values("survey_score")
        .annotate(n=Count("pk"))
        .order_by("survey_score")
    }
    return _surveys_from_scores(scores)


def _surveys_from_scores(scores: dict[int, int]) -> dict[str, Any]:
    answered = sum(scores.values())
    mean = sum(score * n for score, n in scores.items()) / answered if answered else None
    return {
        "answered": answered,
        "average": round(mean, 2) if mean is not None else None,
        "scores": [{"score": s, "count": n} for s, n in scores.items()],
    }


def _save_checks(via: dict[str, Any], decided_mature: int) -> dict[str, Any]:
    grouped = [
        (row["days"], row["n"], row["active"])
        for row in SaveCheck.objects.filter(**via)
        .values("days")
        .annotate(n=Count("pk"), active=Count("pk", filter=Q(still_active=True)))
        .order_by()
    ]
    return _save_checks_from_counts(grouped, decided_mature)


def _save_checks_from_counts(
    grouped: list[tuple[int, int, int]], decided_mature: int
) -> dict[str, Any]:
    """``grouped``: ``(days, checked, still active)``."""
    days_list = sorted(set(app_settings.SAVE_CHECK_DAYS))
    counts = {d: {"checked": 0, "still_active": 0} for d in days_list}
    for days, checked, active in grouped:
        slot = counts.setdefault(days, {"checked": 0, "still_active": 0})
        slot["checked"] += checked
        slot["still_active"] += active
    final = days_list[-1]
    return {
        "checks": [
            {
                "days": d,
                "checked": c["checked"],
                "still_active": c["still_active"],
                "kept_rate": _rate(c["still_active"], c["checked"]),
            }
            for d, c in sorted(counts.items())
        ],
        "definitive_days": final,
        "definitive_saves": counts[final]["still_active"],
        "mature_decided": decided_mature,
        "definitive_save_rate": _rate(counts[final]["still_active"], decided_mature),
    }


def _experiments(via: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (
        ExperimentAssignment.objects.filter(**via)
        .exclude(case__status=CaseStatus.OPEN)
        .values(
            "experiment_id",
            "experiment__name",
            "experiment__holdout_percent",
            "variant_id",
            "variant__offer__slug",
            "variant__offer__title",
            "variant__offer__translations",
            "is_holdout",
        )
        .annotate(n=Count("pk"), kept=Count("pk", filter=Q(case__status__in=RETAINED_STATUSES)))
        .order_by("experiment_id", "variant_id")
    )
    return _experiments_from_rows([dict(row) for row in rows])


def _experiments_from_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The experiments section from ``(experiment, arm)`` counts (``n`` cases, ``kept``)."""
    experiments: dict[int, dict[str, Any]] = {}
    for row in rows:
        experiment = experiments.setdefault(
            row["experiment_id"],
            {
                "experiment": row["experiment__name"],
                "holdout_percent": row["experiment__holdout_percent"],
                "holdout": {"cases": 0, "retained": 0},
                "variants": {},
            },
        )
        if row["is_holdout"] or row["variant_id"] is None:
            arm = experiment["holdout"]
        else:
            arm = experiment["variants"].setdefault(
                row["variant_id"],
                {
                    "offer": row["variant__offer__slug"],
                    "title": _localized(
                        row["variant__offer__title"], row["variant__offer__translations"]
                    ),
                    "cases": 0,
                    "retained": 0,
                },
            )
        arm["cases"] += row["n"]
        arm["retained"] += row["kept"]
    result = []
    for experiment in experiments.values():
        hold = experiment["holdout"]
        hold["retention_rate"] = _rate(hold["retained"], hold["cases"])
        variants = []
        for arm in experiment["variants"].values():
            arm["retention_rate"] = _rate(arm["retained"], arm["cases"])
            interval = newcombe_interval(
                arm["retained"], arm["cases"], hold["retained"], hold["cases"]
            )
            if interval is not None:
                arm["lift"] = round(
                    arm["retained"] / arm["cases"] - hold["retained"] / hold["cases"], 4
                )
                arm["lift_low"], arm["lift_high"] = (round(v, 4) for v in interval)
            else:
                arm["lift"] = arm["lift_low"] = arm["lift_high"] = None
            variants.append(arm)
        experiment["variants"] = variants
        result.append(experiment)
    return result


def _fulfilment(via: dict[str, Any]) -> dict[str, Any]:
    """Accepted offers staff apply (``FulfilmentTask``): open, overdue, done, done late (1 query).

    "Overdue" is measured when the figures are computed (the dashboard caches them for
    ``DASHBOARD_CACHE_SECONDS``).
    """
    now = timezone.now()
    open_ = Q(status=FulfilmentStatus.OPEN)
    done = Q(status=FulfilmentStatus.DONE)
    return FulfilmentTask.objects.filter(**via).aggregate(
        open=Count("pk", filter=open_),
        overdue=Count("pk", filter=open_ & Q(due_at__lt=now)),
        done=Count("pk", filter=done),
        done_late=Count("pk", filter=done & Q(done_at__gt=F("due_at"))),
    )


def default_range() -> tuple[datetime, datetime]:
    """The last ``DASHBOARD_DEFAULT_DAYS`` whole days up to the end of today (local time).

    Whole days keep the range, and so the dashboard's cache key, the same all day.
    """
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    end = today + timedelta(days=1)
    return end - timedelta(days=app_settings.DASHBOARD_DEFAULT_DAYS), end


def dashboard(start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """Every figure of the retention dashboard for cases started in ``[start, end)``.

    The sections about the cases come from the rollups (``case_sections``); the others are one
    or two aggregate queries each over their own table. A new section is one more key in the
    dict below, computed by a function of this module (or of the feature's own module).
    """
    via = _via_case(start, end)
    names = _catalogue_names()
    return {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        **case_sections(start, end, names),
        "follow_ups": _follow_up_funnel(via),
        "fulfilment": _fulfilment(via),
        # Sections of other features go here.
    }


def dashboard_rows(data: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """The dashboard flattened to ``(section, item, metric, value)`` rows, for CSV."""
    rows: list[tuple[str, str, str, Any]] = []
    s = data["summary"]
    rows.append(("summary", "all", "cases", s["total"]))
    for status, n in s["by_status"].items():
        rows.append(("summary", status, "cases", n))
    rows.append(("summary", "all", "save_rate", s["save_rate"]))
    for point in data["over_time"]["points"]:
        for metric in ("cases", "cancelled", "saved", "save_rate"):
            rows.append(("over_time", point["period"], metric, point[metric]))
    for row in data["reasons"]["rows"]:
        rows.append(("reasons", row["reason"], "stated", row["stated"]))
        rows.append(("reasons", row["reason"], "root_cause", row["root_cause"]))
    for row in data["offers_by_reason"]:
        item = f"{row['reason']}/{row['offer']}"
        for metric in ("presented", "accepted", "acceptance_rate"):
            rows.append(("offers", item, metric, row[metric]))
    if data["follow_ups"] is not None:
        for stage in data["follow_ups"]["stages"]:
            rows.append(("follow_ups", stage["stage"], "count", stage["count"]))
    surveys = data["surveys"]
    rows.append(("surveys", "all", "answered", surveys["answered"]))
    rows.append(("surveys", "all", "average", surveys["average"]))
    for score in surveys["scores"]:
        rows.append(("surveys", str(score["score"]), "count", score["count"]))
    for metric, value in data["reactivations"].items():
        rows.append(("reactivations", "all", metric, value))
    for currency, money in data["revenue"]["by_currency"].items():
        for metric, value in money.items():
            rows.append(("revenue", currency, metric, value))
    checks = data["save_checks"]
    for check in checks["checks"]:
        for metric in ("checked", "still_active", "kept_rate"):
            rows.append(("save_checks", f"{check['days']}d", metric, check[metric]))
    rows.append(("save_checks", "all", "definitive_save_rate", checks["definitive_save_rate"]))
    for metric, value in data.get("fulfilment", {}).items():
        rows.append(("fulfilment", "all", metric, value))
    for experiment in data["experiments"]:
        hold = experiment["holdout"]
        rows.append(("experiments", f"{experiment['experiment']}/holdout", "cases", hold["cases"]))
        rows.append(
            ("experiments", f"{experiment['experiment']}/holdout", "retained", hold["retained"])
        )
        for arm in experiment["variants"]:
            item = f"{experiment['experiment']}/{arm['offer']}"
            for metric in ("cases", "retained", "retention_rate", "lift", "lift_low", "lift_high"):
                rows.append(("experiments", item, metric, arm[metric]))
    return rows
