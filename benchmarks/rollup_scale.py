"""The dashboard's case figures at a million cases' worth of rollups, computed from scratch.

The rollups (services/rollups.py) make the cost of the case sections depend on the days in the
range and the combinations of dimensions per day, not on the cases. This writes the rollup rows
that CASES cases spread over DAYS days would give (the same mix of statuses, reasons, root
causes, offers and outcomes, channels, plans, currencies, intervals and survey scores as
``load_demo_data``, drawn with a fixed seed), then times, in this fresh process with no cache:
the case sections of the dashboard for a one-year range (``analytics.case_sections``, what the
dashboard, the summary API and the report read) and ``analytics.summary``.

    python benchmarks/rollup_scale.py DATABASE CASES [DAYS]
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, ensure_database, setup

PLANS = [
    ("Basic", "EUR", "month"),
    ("Standard", "EUR", "month"),
    ("Premium", "EUR", "month"),
    ("Premium", "EUR", "year"),
]


def main() -> None:
    database, cases = sys.argv[1], int(sys.argv[2])
    days = int(sys.argv[3]) if len(sys.argv) > 3 else 730
    ensure_database(database)
    setup(database)
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from django_graceful_cancel import analytics
    from django_graceful_cancel.models import (
        DailyRollup,
        Reason,
        RetentionOffer,
        RollupWatermark,
    )
    from django_graceful_cancel.services import rollups

    with override_settings(MIGRATION_MODULES={"graceful_cancel": None}):
        call_command("migrate", verbosity=0)
        call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("graceful_cancel_load_catalogue", stdout=open("/dev/null", "w"))  # noqa: SIM115
    DailyRollup.objects.all().delete()
    RollupWatermark.objects.all().delete()
    reasons = list(Reason.objects.values_list("pk", flat=True))
    offers = list(RetentionOffer.objects.values_list("pk", flat=True))
    from django_graceful_cancel.models import ExperimentVariant, OfferExperiment

    OfferExperiment.objects.all().delete()
    experiment = OfferExperiment.objects.create(name="Price test", holdout_percent=20)
    arms = [
        ExperimentVariant.objects.create(experiment=experiment, offer_id=offer).pk
        for offer in offers[:2]
    ]
    rng = random.Random(19)
    statuses = ["cancelled"] * 50 + ["saved"] * 20 + ["abandoned"] * 15 + ["reactivated"] * 10
    statuses += ["open"] * 5
    today = timezone.localdate()
    per_day = cases // days
    began = time.perf_counter()
    written = 0
    batch: list[DailyRollup] = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        facets: dict[str, Counter[tuple]] = {name: Counter() for name in rollups.FACETS}
        prices: Counter[tuple] = Counter()
        for _ in range(per_day):
            # Correlated as on a real site: a plan has its price's currency and interval, staff
            # record a root cause on a few cases, few customers answer the survey.
            status = rng.choice(statuses)
            reason = rng.choice([*reasons, None])
            offer = rng.choice([*offers[:6], None, None]) if reason else None
            plan, currency, interval = rng.choice(PLANS)
            facets["status"][(status,)] += 1
            root = reason if rng.random() < 0.1 else None
            facets["reason"][(reason, root)] += 1
            if offer is not None:
                outcome = {"saved": "accepted"}.get(status, rng.choice(["declined", "presented"]))
                key = (reason, offer, outcome, status, interval, currency)
                facets["offer"][key] += 1
                prices[key] += 1
            if rng.random() < 0.15:
                facets["survey"][(rng.choice([1, 2, 3, 4, 5]),)] += 1
            channel = "email" if rng.random() < 0.85 else rng.choice(["sms", "phone"])
            facets["customer"][(channel, plan, currency, interval)] += 1
            if status == "saved":
                for after in (30, 60, 90):
                    facets["save_check"][(after, rng.random() < 0.8)] += 1
            if reason is not None and rng.random() < 0.3:
                arm = rng.choice([None, *arms, arms[-1]])
                facets["experiment"][(experiment.pk, arm, arm is None, status)] += 1
        for facet, combos in facets.items():
            names = list(rollups.FACETS[facet])
            for key, n in combos.items():
                batch.append(
                    DailyRollup(
                        day=day,
                        facet=facet,
                        **dict(zip(names, key, strict=True)),
                        cases=n,
                        price=Decimal("12.99") * n,
                    )
                )
        if len(batch) > 20_000:
            DailyRollup.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    DailyRollup.objects.bulk_create(batch)
    written += len(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    generated = time.perf_counter() - began
    start, end = analytics.default_range()  # the dashboard's default: the last 365 days
    names_began = time.perf_counter()
    names = analytics._catalogue_names()
    sections_began = time.perf_counter()
    sections = analytics.case_sections(start, end, names)
    sections_seconds = time.perf_counter() - sections_began
    summary_began = time.perf_counter()
    analytics.summary(start, end)
    summary_seconds = time.perf_counter() - summary_began
    emit(
        {
            "cases": sum(
                DailyRollup.objects.filter(facet="status").values_list("cases", flat=True)
            ),
            "days": days,
            "rollup_rows": written,
            "generated_seconds": round(generated, 1),
            "in_range": sections["summary"]["total"],
            "catalogue_seconds": sections_began - names_began,
            "case_sections_seconds": sections_seconds,
            "summary_seconds": summary_seconds,
        }
    )


if __name__ == "__main__":
    main()
