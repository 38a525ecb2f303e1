"""The per-day rollups (issue 19): the figures they give equal the figures computed from the cases.

The reference is the analytics code that groups the cases themselves (``summary_from_cases``,
``case_sections_from_cases``); the rollups are what the dashboard, the summary API and the report
read. A Hypothesis property test builds random histories (cases started at any hour of the last
two months, in every status, with or without a reason, a root cause, an offer and its outcome, a
survey score, in several plans and currencies), changes some of them afterwards the way the
services do (the case changes and its timeline gets an event), reads figures between the changes,
and compares both for random ranges whose ends fall at any minute, in UTC and in a zone with a
half-hour offset.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_graceful_cancel import analytics
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome
from django_graceful_cancel.models import (
    CancellationCase,
    CaseEvent,
    DailyRollup,
    ExperimentAssignment,
    ExperimentVariant,
    OfferExperiment,
    OfferPresentation,
    Reason,
    RetentionOffer,
    RollupWatermark,
    SaveCheck,
)
from django_graceful_cancel.models.cases import new_reference
from django_graceful_cancel.services import rollups

pytestmark = pytest.mark.django_db

STATUSES = [
    CaseStatus.OPEN,
    CaseStatus.SAVED,
    CaseStatus.CANCELLED,
    CaseStatus.REACTIVATED,
    CaseStatus.ABANDONED,
]
REASONS = [None, "price", "quality", "competitor", "temporary"]
OFFERS = [
    None,
    ("discount-30-3m", OfferOutcome.ACCEPTED),
    ("discount-30-3m", OfferOutcome.DECLINED),
    ("pause-2m", OfferOutcome.ACCEPTED),
    ("pause-2m", OfferOutcome.PRESENTED),
    ("downgrade-basic", OfferOutcome.DECLINED),
]

case_strategy = st.fixed_dictionaries(
    {
        "minutes_ago": st.integers(min_value=0, max_value=60 * 24 * 60),
        "status": st.sampled_from(STATUSES),
        "reason": st.sampled_from(REASONS),
        "root_cause": st.sampled_from(REASONS),
        "offer": st.sampled_from(OFFERS),
        "channel": st.sampled_from(["email", "sms", "phone"]),
        "plan": st.sampled_from(["Basic", "Standard", "Premium"]),
        "currency": st.sampled_from(["EUR", "USD", ""]),
        "interval": st.sampled_from(["month", "year", "week", ""]),
        "price": st.sampled_from([None, Decimal("7.99"), Decimal("12.99"), Decimal("120.00")]),
        "survey": st.sampled_from([None, 1, 3, 5]),
        "checks": st.lists(
            st.tuples(st.sampled_from([30, 60, 90]), st.booleans()),
            max_size=3,
            unique_by=lambda check: check[0],
        ),
        "arm": st.sampled_from([None, "holdout", 0, 1]),
    }
)
change_strategy = st.fixed_dictionaries(
    {
        "which": st.integers(min_value=0, max_value=1000),
        "status": st.sampled_from(STATUSES),
        "root_cause": st.sampled_from(REASONS),
    }
)
range_strategy = st.tuples(
    st.one_of(st.none(), st.integers(min_value=0, max_value=60 * 24 * 61)),
    st.one_of(st.none(), st.integers(min_value=-60 * 24, max_value=60 * 24 * 61)),
)
history_strategy = st.lists(
    st.tuples(
        st.lists(case_strategy, min_size=0, max_size=6),
        st.lists(change_strategy, max_size=3),
        range_strategy,
    ),
    min_size=1,
    max_size=4,
)


def _wipe() -> None:
    CancellationCase.objects.all().delete()
    DailyRollup.objects.all().delete()
    RollupWatermark.objects.all().delete()


def _experiment(offers: dict[str, Any]) -> tuple[Any, list[Any]]:
    experiment = OfferExperiment.objects.create(name="Price test", holdout_percent=20)
    variants = [
        ExperimentVariant.objects.create(experiment=experiment, offer=offers[slug])
        for slug in ("discount-30-3m", "pause-2m")
    ]
    return experiment, variants


def _create(
    spec: dict[str, Any],
    reasons: dict[str, Reason],
    offers: dict[str, Any],
    arms: tuple[Any, list[Any]] | None = None,
) -> None:
    case = CancellationCase.objects.create(
        reference=new_reference(),
        subscription_ref=f"known:{new_reference()}",
        status=spec["status"],
        reason=reasons.get(spec["reason"]) if spec["reason"] else None,
        root_cause=reasons.get(spec["root_cause"]) if spec["root_cause"] else None,
        preferred_channel=spec["channel"],
        plan=spec["plan"],
        currency=spec["currency"],
        billing_interval=spec["interval"],
        price=spec["price"],
        survey_score=spec["survey"],
        created_at=timezone.now() - timedelta(minutes=spec["minutes_ago"]),
    )
    if spec["offer"] is not None:
        slug, outcome = spec["offer"]
        OfferPresentation.objects.create(case=case, offer=offers[slug], outcome=outcome)
    for days, still_active in spec.get("checks", []):
        SaveCheck.objects.create(case=case, days=days, still_active=still_active)
    if arms is not None and spec.get("arm") is not None:
        experiment, variants = arms
        holdout = spec["arm"] == "holdout"
        ExperimentAssignment.objects.create(
            case=case,
            experiment=experiment,
            variant=None if holdout else variants[spec["arm"]],
            is_holdout=holdout,
        )


def _change(spec: dict[str, Any], reasons: dict[str, Reason]) -> None:
    """What a service does: the case changes, and its timeline says so in the same transaction."""
    cases = list(CancellationCase.objects.order_by("pk"))
    if not cases:
        return
    case = cases[spec["which"] % len(cases)]
    case.status = spec["status"]
    case.root_cause = reasons.get(spec["root_cause"]) if spec["root_cause"] else None
    case.save(update_fields=["status", "root_cause", "updated_at"])
    case.log(EventKind.ROOT_CAUSE_SET, actor="staff", data={})


def _range(bounds: tuple[int | None, int | None]) -> tuple[datetime | None, datetime | None]:
    now = timezone.now()
    start = now - timedelta(minutes=bounds[0]) if bounds[0] is not None else None
    end = now - timedelta(minutes=bounds[1]) if bounds[1] is not None else None
    return start, end


def _compare(start: datetime | None, end: datetime | None) -> None:
    assert analytics.summary(start, end) == analytics.summary_from_cases(start, end)
    names = analytics._catalogue_names()
    from_rollups = analytics.case_sections(start, end, names)
    from_cases = analytics.case_sections_from_cases(start, end, names)
    assert from_rollups == from_cases


def _check_history(history: list[Any]) -> None:
    _wipe()
    reasons = {r.slug: r for r in Reason.objects.all()}
    offers = {o.slug: o for o in RetentionOffer.objects.all()}
    OfferExperiment.objects.all().delete()
    arms = _experiment(offers)
    for created, changes, bounds in history:
        for spec in created:
            _create(spec, reasons, offers, arms)
        for spec in changes:
            _change(spec, reasons)
        _compare(*_range(bounds))
    # Everything, and the default range, after the last change.
    _compare(None, None)
    _compare(*analytics.default_range())


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=history_strategy)
def test_rollup_figures_equal_the_figures_from_the_cases(catalogue, history):
    _check_history(history)


@settings(
    max_examples=10,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=history_strategy)
def test_rollups_follow_the_sites_time_zone(catalogue, history):
    # A half-hour offset: a day boundary the UTC days would put in the wrong place.
    with override_settings(TIME_ZONE="Asia/Kolkata"):
        _check_history(history)


def test_the_rebuild_command_recomputes_everything_from_the_cases(catalogue):
    reasons = {r.slug: r for r in Reason.objects.all()}
    offers = {o.slug: o for o in RetentionOffer.objects.all()}
    for minutes in (5, 60 * 30, 60 * 24 * 3):
        _create(
            {
                "minutes_ago": minutes,
                "status": CaseStatus.SAVED,
                "reason": "price",
                "root_cause": None,
                "offer": ("discount-30-3m", OfferOutcome.ACCEPTED),
                "channel": "email",
                "plan": "Standard",
                "currency": "EUR",
                "interval": "month",
                "price": Decimal("12.99"),
                "survey": None,
            },
            reasons,
            offers,
        )
    rollups.refresh(settle_seconds=0)
    # A change behind the services' back (no event): the rollups cannot know of it...
    CancellationCase.objects.filter(pk=CancellationCase.objects.first().pk).update(
        status=CaseStatus.CANCELLED
    )
    assert analytics.summary() != analytics.summary_from_cases()
    # ...until they are rebuilt from the cases.
    out = io.StringIO()
    call_command("graceful_cancel_rebuild_rollups", stdout=out)
    assert "3 cases" in out.getvalue()
    assert analytics.summary() == analytics.summary_from_cases()
    # Three days, each with its status, reason, offer and customer facets (no survey answered).
    assert DailyRollup.objects.count() == 3 * 4
    assert set(DailyRollup.objects.values_list("facet", flat=True)) == {
        "status",
        "reason",
        "offer",
        "customer",
    }


def test_refresh_is_bounded_and_goes_on_where_it_stopped(catalogue):
    reasons = {r.slug: r for r in Reason.objects.all()}
    for days in range(5):
        _create(
            {
                "minutes_ago": days * 60 * 24 + 30,
                "status": CaseStatus.CANCELLED,
                "reason": "price",
                "root_cause": None,
                "offer": None,
                "channel": "email",
                "plan": "Standard",
                "currency": "EUR",
                "interval": "month",
                "price": None,
                "survey": None,
            },
            reasons,
            {},
        )
    assert rollups.refresh(max_days=2) == 2
    assert DailyRollup.objects.filter(facet="status").count() == 2
    assert rollups.refresh() == 5  # the rest, and the first two again (nothing settled yet)
    assert DailyRollup.objects.filter(facet="status").aggregate(n=Sum("cases"))["n"] == 5
    assert rollups.refresh(settle_seconds=0) == 5
    # Settled: nothing new since, nothing to do.
    assert rollups.refresh(settle_seconds=0) == 0


def test_reading_figures_costs_the_same_whatever_the_number_of_cases(catalogue):
    reasons = {r.slug: r for r in Reason.objects.all()}
    spec = {
        "minutes_ago": 90,
        "status": CaseStatus.CANCELLED,
        "reason": "price",
        "root_cause": None,
        "offer": None,
        "channel": "email",
        "plan": "Standard",
        "currency": "EUR",
        "interval": "month",
        "price": None,
        "survey": None,
    }
    counts = []
    for extra in (3, 60):
        for i in range(extra):
            _create({**spec, "minutes_ago": 90 + i * 97}, reasons, {})
        rollups.refresh(settle_seconds=0)
        with CaptureQueriesContext(connection) as queries:
            analytics.summary(*analytics.default_range())
        counts.append(len(queries))
    # The watermarks (1), one look per source (5), the status, reason and offer facets (3), the
    # catalogue names (2), and here the refresh's transaction as a savepoint pair (2).
    assert counts[0] == counts[1] <= 13, counts
    assert CaseEvent.objects.count() == 0  # nothing here went through the timeline
