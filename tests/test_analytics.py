"""Dashboard figures, checked against numbers worked out by hand for a small known history."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import analytics, services
from django_graceful_cancel.choices import CaseStatus, OfferOutcome
from django_graceful_cancel.models import (
    CancellationCase,
    ExperimentAssignment,
    ExperimentVariant,
    FollowUp,
    OfferExperiment,
    OfferPresentation,
    Reason,
    RetentionOffer,
    SaveCheck,
)
from django_graceful_cancel.models.cases import new_reference
from tests.support import gc_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_dashboard_cache")]


# --- the statistics, against published values --------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I.
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998(k, n, low, high):
    lower, upper = analytics.wilson_interval(k, n)
    assert (round(lower, 4), round(upper, 4)) == (low, high)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "low", "high"),
    # Newcombe (1998), "Interval estimation for the difference between independent proportions",
    # Table II, method 10 (hybrid score).
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
    ],
)
def test_newcombe_interval_matches_the_published_examples(k1, n1, k2, n2, low, high):
    lower, upper = analytics.newcombe_interval(k1, n1, k2, n2)
    assert (round(lower, 4), round(upper, 4)) == (low, high)


def test_intervals_need_observations():
    assert analytics.wilson_interval(0, 0) is None
    assert analytics.newcombe_interval(1, 2, 0, 0) is None


@pytest.mark.parametrize(
    ("kind", "parameters", "months", "fixed"),
    [
        ("discount", {"percent_off": 30, "duration_months": 3}, Decimal("0.9"), 0),
        ("discount", {"percent_off": 50}, Decimal("0.5"), 0),
        ("pause", {"months": 2}, Decimal(2), 0),
        ("extension", {"days": 45}, Decimal("1.5"), 0),
        ("downgrade", {"plan": "basic"}, 0, 0),
        ("discount", {"percent_off": 30, "cost": "4.50"}, 0, Decimal("4.50")),
        ("consultation", {}, 0, 0),
    ],
)
def test_offer_cost(kind, parameters, months, fixed):
    assert analytics.offer_cost_factors(kind, parameters) == (Decimal(months), Decimal(fixed))


# --- a known history ---------------------------------------------------------------------------


def _case(status: str, reason: str | None, *, days_ago: int = 10, **fields: Any) -> Any:
    reasons = {r.slug: r for r in Reason.objects.all()}
    defaults = {
        "plan": "Standard",
        "price": Decimal("12.99"),
        "currency": "EUR",
        "billing_interval": "month",
    }
    return CancellationCase.objects.create(
        reference=new_reference(),
        subscription_ref=f"known:{new_reference()}",
        status=status,
        reason=reasons[reason] if reason else None,
        created_at=timezone.now() - timedelta(days=days_ago),
        **{**defaults, **fields},
    )


def _offer(case: Any, slug: str, outcome: str) -> None:
    OfferPresentation.objects.create(
        case=case, offer=RetentionOffer.objects.get(slug=slug), outcome=outcome
    )


@pytest.fixture
def history(catalogue: Any) -> dict[str, Any]:
    quality = Reason.objects.get(slug="quality")
    features = Reason.objects.get(slug="missing-features")
    saved_discount = _case(CaseStatus.SAVED, "price", days_ago=100, survey_score=4)
    _offer(saved_discount, "discount-30-3m", OfferOutcome.ACCEPTED)
    saved_pause = _case(CaseStatus.SAVED, "price", price=Decimal("120.00"), billing_interval="year")
    _offer(saved_pause, "pause-2m", OfferOutcome.ACCEPTED)
    declined = _case(
        CaseStatus.CANCELLED, "price", days_ago=100, root_cause=quality, survey_score=2
    )
    _offer(declined, "discount-30-3m", OfferOutcome.DECLINED)
    _case(CaseStatus.CANCELLED, "quality", root_cause=quality)
    came_back = _case(CaseStatus.REACTIVATED, "competitor", root_cause=features)
    _offer(came_back, "downgrade-basic", OfferOutcome.DECLINED)
    _case(CaseStatus.ABANDONED, None)
    _case(CaseStatus.OPEN, "competitor")
    # Outside the default 365-day range: must not count anywhere.
    old = _case(CaseStatus.SAVED, "price", days_ago=400, survey_score=1)
    _offer(old, "discount-30-3m", OfferOutcome.ACCEPTED)
    SaveCheck.objects.create(case=old, days=90, still_active=True)
    SaveCheck.objects.create(case=saved_discount, days=30, still_active=True)
    SaveCheck.objects.create(case=saved_discount, days=60, still_active=True)
    SaveCheck.objects.create(case=saved_discount, days=90, still_active=True)
    SaveCheck.objects.create(case=saved_pause, days=30, still_active=False)
    now = timezone.now()
    for stage, status in [
        ("confirmation", "opened"),
        ("thank_you", "delivered"),
        ("survey", "sent"),
        ("winback", "bounced"),
        ("a", "scheduled"),
        ("b", "cancelled"),
    ]:
        FollowUp.objects.create(
            case=declined, stage=stage, channel="email", status=status, due_at=now
        )
    return {"saved_discount": saved_discount, "declined": declined}


def test_dashboard_figures(history):
    data = analytics.dashboard(*analytics.default_range())
    s = data["summary"]
    assert s["total"] == 7
    assert s["by_status"] == {
        "open": 1,
        "saved": 2,
        "cancelled": 2,
        "reactivated": 1,
        "abandoned": 1,
        "withdrawn": 0,
    }
    assert s["save_rate"] == 0.4  # 2 saved / (2 saved + 2 cancelled + 1 reactivated)
    assert data["reactivations"] == {"reactivated": 1, "cancelled": 3, "win_back_rate": 0.3333}

    reasons = {r["reason"]: (r["stated"], r["root_cause"]) for r in data["reasons"]["rows"]}
    assert reasons == {
        "price": (3, 0),
        "quality": (1, 2),
        "competitor": (2, 0),
        "missing-features": (0, 1),
        "none": (1, 0),
    }
    assert data["reasons"]["with_root_cause"] == 3
    assert {"stated": "price", "root_cause": "quality", "cases": 1} in data["reasons"]["pairs"]

    offers = {
        (o["reason"], o["offer"]): (o["presented"], o["accepted"], o["acceptance_rate"])
        for o in data["offers_by_reason"]
    }
    assert offers == {
        ("price", "discount-30-3m"): (2, 1, 0.5),
        ("price", "pause-2m"): (1, 1, 1.0),
        ("competitor", "downgrade-basic"): (1, 0, 0.0),
    }

    # 12 months of 12.99 + 12 months of 120/12, minus 0.9 month of 12.99 and 2 months of 10.
    assert data["revenue"] == {
        "horizon_months": 12,
        "by_currency": {
            "EUR": {"saves": 2, "gross": "275.88", "offer_cost": "31.69", "net": "244.19"}
        },
    }

    assert data["surveys"] == {
        "answered": 2,
        "average": 3.0,
        "scores": [{"score": 2, "count": 1}, {"score": 4, "count": 1}],
    }

    checks = {c["days"]: (c["checked"], c["still_active"]) for c in data["save_checks"]["checks"]}
    assert checks == {30: (2, 1), 60: (1, 1), 90: (1, 1)}
    # Decided cases old enough for the 90-day check: the saved one and the declined one.
    assert data["save_checks"]["mature_decided"] == 2
    assert data["save_checks"]["definitive_save_rate"] == 0.5

    funnel = {s["stage"]: s["count"] for s in data["follow_ups"]["stages"]}
    assert funnel == {"created": 6, "sent": 4, "delivered": 2, "opened": 1}

    points = data["over_time"]["points"]
    assert data["over_time"]["unit"] == "month"
    assert sum(p["cases"] for p in points) == 7
    assert sum(p["saved"] for p in points) == 2
    assert sum(p["cancelled"] for p in points) == 3


def test_summary_keys_stay_stable(history):
    """The REST API returns summary() as it is: its keys are a public contract."""
    s = analytics.summary()
    assert set(s) == {"total", "by_status", "by_reason", "save_rate", "offers"}
    assert set(s["offers"]) == {"presented", "accepted", "acceptance_rate", "by_offer"}
    assert s["total"] == 8  # no range: the old case counts too


def test_a_date_range_narrows_every_figure(history):
    end = timezone.now()
    data = analytics.dashboard(end - timedelta(days=30), end)
    assert data["summary"]["total"] == 5
    assert data["over_time"]["unit"] == "day"
    assert data["save_checks"]["checks"][0] == {
        "days": 30,
        "checked": 1,
        "still_active": 0,
        "kept_rate": 0.0,
    }
    assert data["follow_ups"]["stages"][0]["count"] == 0


@override_settings(GRACEFUL_CANCEL=gc_settings(REVENUE_HORIZON_MONTHS=6))
def test_revenue_horizon_is_a_setting(history):
    money = analytics.dashboard(*analytics.default_range())["revenue"]["by_currency"]["EUR"]
    assert money["gross"] == "137.94"  # 6 x 12.99 + 6 x 10


# --- experiments -------------------------------------------------------------------------------


def _arm(experiment: Any, variant: Any, retained: int, total: int) -> None:
    for i in range(total):
        status = CaseStatus.SAVED if i < retained else CaseStatus.CANCELLED
        if variant is None and i < retained:
            status = CaseStatus.ABANDONED  # the holdout had no offer to accept
        case = _case(status, "price")
        ExperimentAssignment.objects.create(
            case=case, experiment=experiment, variant=variant, is_holdout=variant is None
        )


def test_experiment_lift_with_confidence_interval(catalogue):
    experiment = OfferExperiment.objects.create(name="Price test", holdout_percent=50)
    discount = ExperimentVariant.objects.create(
        experiment=experiment, offer=RetentionOffer.objects.get(slug="discount-30-3m")
    )
    _arm(experiment, discount, 56, 70)
    _arm(experiment, None, 48, 80)
    # An open case in an arm is not decided yet: it must not count.
    ExperimentAssignment.objects.create(
        case=_case(CaseStatus.OPEN, "price"), experiment=experiment, variant=discount
    )
    [result] = analytics.dashboard(*analytics.default_range())["experiments"]
    assert result["holdout"] == {"cases": 80, "retained": 48, "retention_rate": 0.6}
    [arm] = result["variants"]
    assert (arm["cases"], arm["retained"], arm["retention_rate"]) == (70, 56, 0.8)
    assert arm["lift"] == 0.2
    assert (arm["lift_low"], arm["lift_high"]) == (0.0524, 0.3339)


def test_dashboard_page_shows_the_experiment(superuser_client, catalogue):
    experiment = OfferExperiment.objects.create(name="Price test", holdout_percent=50)
    discount = ExperimentVariant.objects.create(
        experiment=experiment, offer=RetentionOffer.objects.get(slug="discount-30-3m")
    )
    _arm(experiment, discount, 9, 10)
    _arm(experiment, None, 3, 10)
    html = superuser_client.get(reverse("admin:graceful_cancel_dashboard")).content.decode()
    assert "Lift over the holdout, with 95% interval: Price test" in html
    assert "0.171 … 0.809" in html  # Newcombe's example (b): 9/10 - 3/10


def test_experiment_assignment_is_stable_and_respects_weights(make_customer, catalogue):
    price = Reason.objects.get(slug="price")
    experiment = OfferExperiment.objects.create(
        name="Discount vs pause", reason=price, holdout_percent=20
    )
    discount = ExperimentVariant.objects.create(
        experiment=experiment, offer=RetentionOffer.objects.get(slug="discount-30-3m"), weight=3
    )
    pause = ExperimentVariant.objects.create(
        experiment=experiment, offer=RetentionOffer.objects.get(slug="pause-2m"), weight=1
    )
    from django_graceful_cancel.services.experiments import assign_experiment

    arms = {"holdout": 0, discount.pk: 0, pause.pk: 0}
    for _ in range(400):
        case = _case(CaseStatus.OPEN, "price")
        assignment = assign_experiment(case)
        assert assign_experiment(case).pk == assignment.pk  # once per case
        arms["holdout" if assignment.is_holdout else assignment.variant_id] += 1
    # 20% holdout; the rest split 3:1. Bounds are ~4 standard deviations wide.
    assert 47 <= arms["holdout"] <= 113
    assert 190 <= arms[discount.pk] <= 290
    assert 50 <= arms[pause.pk] <= 110


def test_the_policy_follows_the_experiment(make_customer, catalogue):
    price = Reason.objects.get(slug="price")
    experiment = OfferExperiment.objects.create(name="All pause", reason=price, holdout_percent=0)
    ExperimentVariant.objects.create(
        experiment=experiment, offer=RetentionOffer.objects.get(slug="pause-2m")
    )
    case, _ = services.start_case(make_customer())
    services.record_reason(case, "price")
    assert services.present_offer(case).offer.slug == "pause-2m"

    experiment.holdout_percent = 100
    experiment.save()
    held, _ = services.start_case(make_customer())
    services.record_reason(held, "price")
    assert services.present_offer(held) is None
    assert ExperimentAssignment.objects.get(case=held).is_holdout

    # Another reason is outside this experiment: the default policy decides as before.
    other, _ = services.start_case(make_customer())
    services.record_reason(other, "temporary")
    assert services.present_offer(other).offer.slug == "pause-2m"
    assert not ExperimentAssignment.objects.filter(case=other).exists()

    experiment.is_active = False
    experiment.save()
    after, _ = services.start_case(make_customer())
    services.record_reason(after, "price")
    assert services.present_offer(after).offer.slug == "discount-30-3m"


# --- the dashboard page, its CSV and the report command ----------------------------------------


def test_dashboard_page_shows_charts_and_numbers(superuser_client, history):
    response = superuser_client.get(reverse("admin:graceful_cancel_dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 5
    assert '<script src="http' not in html and '<script src="//' not in html
    assert 'data-figure="total">7<' in html
    assert 'data-figure="save_rate">40%<' in html
    assert 'data-figure="revenue_net_EUR">244 EUR<' in html
    assert 'data-figure="definitive_save_rate">50%<' in html
    assert "It costs too much for what I get" in html


def test_dashboard_date_range_and_csv(superuser_client, history):
    today = timezone.localdate()
    query = {"start": str(today - timedelta(days=30)), "end": str(today)}
    response = superuser_client.get(reverse("admin:graceful_cancel_dashboard"), query)
    assert response.context["data"]["summary"]["total"] == 5
    csv_response = superuser_client.get(
        reverse("admin:graceful_cancel_dashboard"), {**query, "format": "csv"}
    )
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
    assert rows[0] == ["section", "item", "metric", "value"]
    assert ["summary", "all", "cases", "5"] in rows
    assert [
        "revenue",
        "EUR",
        "net",
        "100.00",
    ] in rows  # only the pause save is recent: 12 x 10 - 2 x 10


def test_dashboard_default_range_is_the_last_year_up_to_today(superuser_client, history):
    form = superuser_client.get(reverse("admin:graceful_cancel_dashboard")).context["form"]
    today = timezone.localdate()
    assert form.initial == {"start": today - timedelta(days=364), "end": today}


def test_dashboard_rejects_a_backwards_range(superuser_client, history):
    response = superuser_client.get(
        reverse("admin:graceful_cancel_dashboard"), {"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "The start date is after the end date." in response.content.decode()


def test_report_command_json_and_csv(history, tmp_path):
    out = io.StringIO()
    call_command("graceful_cancel_report", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["summary"]["total"] == 7
    assert data["revenue"]["by_currency"]["EUR"]["net"] == "244.19"
    target = tmp_path / "report.csv"
    call_command("graceful_cancel_report", "--output", str(target))
    rows = list(csv.reader(target.open()))
    assert ["summary", "all", "save_rate", "0.4"] in rows
    assert ["follow_ups", "opened", "count", "1"] in rows
    out = io.StringIO()
    call_command("graceful_cancel_report", stdout=out)
    assert out.getvalue().splitlines()[0] == "section,item,metric,value"


def test_dashboard_figures_are_cached_until_refreshed(superuser_client, history):
    url = reverse("admin:graceful_cancel_dashboard")
    assert superuser_client.get(url).context["data"]["summary"]["total"] == 7
    _case(CaseStatus.CANCELLED, "price")
    assert superuser_client.get(url).context["data"]["summary"]["total"] == 7
    assert superuser_client.get(url, {"refresh": "1"}).context["data"]["summary"]["total"] == 8
    with override_settings(GRACEFUL_CANCEL=gc_settings(DASHBOARD_CACHE_SECONDS=0)):
        _case(CaseStatus.CANCELLED, "price")
        assert superuser_client.get(url).context["data"]["summary"]["total"] == 9


def test_catalogue_labels_follow_the_staff_language(history):
    from django.utils import translation

    with translation.override("es"):
        data = analytics.dashboard(*analytics.default_range())
    labels = {r["reason"]: r["label"] for r in data["reasons"]["rows"]}
    assert labels["price"] == "Cuesta demasiado para lo que recibo"
    titles = {o["offer"]: o["title"] for o in data["offers_by_reason"]}
    assert titles["discount-30-3m"] == "30 % de descuento durante los próximos 3 meses"
