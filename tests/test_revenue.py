"""Revenue on every reason (issue 20, part 2): MRR per reason, answer, root cause, path and cohort.

A history is built by hand (several currencies and billing intervals, cases with no price, an
interval nobody can read, a price with no currency); the expected monthly amounts are computed
here with exact fractions, independently of ``services.revenue``, and compared with the service's
figures, with the numbers printed in the flow chart's SVG and in the dashboard's tables, with
the summary API and with the report.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from html import unescape
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel.admin.flowchart import flow_chart
from django_graceful_cancel.choices import QuestionKind
from django_graceful_cancel.exceptions import InvalidInput
from django_graceful_cancel.models import (
    CancellationCase,
    QuestionAnswer,
    Reason,
    ReasonQuestion,
)
from django_graceful_cancel.models.cases import new_reference
from django_graceful_cancel.services import revenue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_dashboard_cache")]

#: Months of price per month, written out here as exact fractions (the reference).
PER_MONTH = {
    "month": Fraction(1),
    "monthly": Fraction(1),
    "year": Fraction(1, 12),
    "annual": Fraction(1, 12),
    "week": Fraction(52, 12),
    "day": Fraction(365, 12),
    "3 months": Fraction(1, 3),
    "quarterly": Fraction(1, 3),
    "2 weeks": Fraction(52, 24),
}

# (reason, answer choice, root cause, status, price, currency, interval, plan, tenure days,
#  subscription started "YYYY-MM")
HISTORY: list[tuple[Any, ...]] = [
    (
        "price",
        "too-expensive",
        "price",
        "cancelled",
        "10.00",
        "EUR",
        "month",
        "Basic",
        30,
        "2025-01",
    ),
    ("price", "too-expensive", "quality", "saved", "120.00", "EUR", "year", "Pro", 400, "2024-02"),
    (
        "price",
        "too-expensive",
        "price",
        "withdrawn",
        "15.50",
        "EUR",
        "monthly",
        "Basic",
        5,
        "2026-10",
    ),
    ("price", "budget-cut", None, "cancelled", "10.00", "USD", "week", "Basic", 100, "2025-01"),
    ("price", "budget-cut", "price", "saved", "7.00", "USD", "2 weeks", "Pro", 800, "2023-05"),
    ("price", None, None, "cancelled", "3.00", "USD", "3 months", "Pro", None, None),
    ("quality", None, "quality", "cancelled", "1.00", "EUR", "day", "Basic", 200, "2025-01"),
    ("quality", None, None, "open", None, "", "", "Basic", 10, "2026-10"),
    (None, None, None, "cancelled", "20.00", "EUR", "fortnightly", "Pro", 60, "2024-02"),
    ("competitor", None, "price", "saved", "99.99", "USD", "annual", "", 1000, "2023-05"),
    ("competitor", None, None, "cancelled", "5.00", "", "month", "Basic", 50, "2025-01"),
    ("quality", None, None, "reactivated", "30.00", "EUR", "quarterly", "Pro", 90, "2025-01"),
]

LOST = {"cancelled", "withdrawn"}


def _monthly(price: str | None, currency: str, interval: str) -> Fraction | None:
    if price is None or not currency or interval not in PER_MONTH:
        return None
    return Fraction(Decimal(price)) * PER_MONTH[interval]


def _cents(value: Fraction) -> str:
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01")))


def _expected(key_of: Any) -> dict[Any, dict[str, Any]]:
    """Counts and MRR per group, from HISTORY alone."""
    found: dict[Any, dict[str, Any]] = {}
    for spec in HISTORY:
        _reason, _answer, _root, status, price, currency, interval, *_rest = spec
        slot = found.setdefault(key_of(spec), {"cases": 0, "lost": 0, "saved": 0, "mrr": {}})
        slot["cases"] += 1
        slot["lost"] += status in LOST
        slot["saved"] += status == "saved"
        monthly = _monthly(price, currency, interval)
        if monthly is None:
            continue
        money = slot["mrr"].setdefault(currency, [Fraction(0), Fraction(0), Fraction(0)])
        money[0] += monthly
        money[1] += monthly if status in LOST else 0
        money[2] += monthly if status == "saved" else 0
    return {
        key: {
            **slot,
            "mrr": {
                c: {"at_stake": _cents(m[0]), "lost": _cents(m[1]), "saved": _cents(m[2])}
                for c, m in sorted(slot["mrr"].items())
            },
        }
        for key, slot in found.items()
    }


def _tenure(days: int | None) -> str:
    if days is None:
        return "none"
    return "0-3m" if days < 91 else "3-12m" if days < 365 else "1-2y" if days < 730 else "2y+"


@pytest.fixture
def history(catalogue: Any) -> list[CancellationCase]:
    reasons = {r.slug: r for r in Reason.objects.all()}
    question = ReasonQuestion.objects.create(
        reason=reasons["price"],
        key="why",
        kind=QuestionKind.CHOICE,
        prompt="What about the price?",
        choices=[
            {"key": "too-expensive", "label": "Too expensive"},
            {"key": "budget-cut", "label": "Our budget was cut"},
        ],
    )
    # A second, later question: the path uses the first one only, so nothing counts twice.
    later = ReasonQuestion.objects.create(
        reason=reasons["price"],
        key="when",
        kind=QuestionKind.CHOICE,
        prompt="When?",
        order=5,
        choices=[{"key": "now", "label": "Now"}],
    )
    cases = []
    now = timezone.now()
    for index, spec in enumerate(HISTORY):
        reason, answer, root, status, price, currency, interval, plan, days, started = spec
        case = CancellationCase.objects.create(
            reference=new_reference(),
            subscription_ref=f"known:{index}",
            status=status,
            reason=reasons.get(reason) if reason else None,
            root_cause=reasons.get(root) if root else None,
            price=Decimal(price) if price is not None else None,
            currency=currency,
            billing_interval=interval,
            plan=plan,
            tenure_days=days,
            subscription_started_at=timezone.make_aware(
                datetime.strptime(started + "-15", "%Y-%m-%d")
            )
            if started
            else None,
            created_at=now - timedelta(hours=index + 1),
        )
        if answer:
            QuestionAnswer.objects.create(
                case=case, question=question, question_key="why", kind="choice", choice=answer
            )
            QuestionAnswer.objects.create(
                case=case, question=later, question_key="when", kind="choice", choice="now"
            )
        cases.append(case)
    return cases


def _range() -> tuple[datetime, datetime]:
    now = timezone.now()
    return now - timedelta(days=2), now + timedelta(minutes=1)


def _by(items: list[dict[str, Any]], key: Any) -> dict[Any, dict[str, Any]]:
    return {
        key(item): {name: item[name] for name in ("cases", "lost", "saved", "mrr")}
        for item in items
    }


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "price", "monthly"),
    [
        ("month", "12.00", Fraction(12)),
        ("year", "120.00", Fraction(10)),
        ("Yearly", "120.00", Fraction(10)),
        ("week", "10.00", Fraction(520, 12)),
        ("day", "1.00", Fraction(365, 12)),
        ("3 months", "30.00", Fraction(10)),
        ("3-month", "30.00", Fraction(10)),
        ("every 2 weeks", "12.00", Fraction(12 * 52, 24)),
        ("quarter", "30.00", Fraction(10)),
    ],
)
def test_monthly_amount_normalises_each_interval(interval, price, monthly):
    found = revenue.monthly_amount(Decimal(price), interval)
    assert found is not None
    assert abs(Fraction(found) - monthly) < Fraction(1, 10**12)


@pytest.mark.parametrize("interval", ["", "fortnightly", "0 months", "lifetime", "month2"])
def test_unknown_interval_has_no_monthly_amount(interval):
    assert revenue.monthly_amount(Decimal("10.00"), interval) is None


def test_no_price_has_no_monthly_amount():
    assert revenue.monthly_amount(None, "month") is None


# --- the figures against the hand-made history -------------------------------------------------


def test_figures_match_the_history_computed_independently(history):
    data = revenue.figures(*_range())

    assert data["cases"] == len(HISTORY)
    expected_total = _expected(lambda spec: "all")["all"]
    assert {k: data["totals"][k] for k in ("cases", "lost", "saved", "mrr")} == expected_total
    # Never added across currencies; the currency with the most revenue at stake first.
    assert set(data["currencies"]) == {"EUR", "USD"}
    assert data["currencies"][0] == max(
        expected_total["mrr"], key=lambda c: Decimal(expected_total["mrr"][c]["at_stake"])
    )
    assert data["without_revenue"] == {
        "no_price": sum(1 for s in HISTORY if s[4] is None),
        "unknown_interval": sum(1 for s in HISTORY if s[4] is not None and s[6] not in PER_MONTH),
        "no_currency": sum(
            1 for s in HISTORY if s[4] is not None and s[6] in PER_MONTH and not s[5]
        ),
    }

    assert _by(data["reasons"], lambda i: i["reason"]) == _expected(lambda s: s[0] or "none")
    assert _by(data["root_causes"], lambda i: i["root_cause"]) == _expected(
        lambda s: s[2] or "none"
    )
    assert _by(data["answers"], lambda i: (i["reason"], i["answer"])) == _expected(
        lambda s: (s[0] or "none", f"why:{s[1]}" if s[1] else "none")
    )
    assert _by(data["paths"], lambda i: (i["reason"], i["answer"], i["root_cause"])) == _expected(
        lambda s: (s[0] or "none", f"why:{s[1]}" if s[1] else "none", s[2] or "none")
    )
    assert _by(data["cohorts"]["plan"], lambda i: i["key"]) == _expected(lambda s: s[7] or "none")
    assert _by(data["cohorts"]["tenure"], lambda i: i["key"]) == _expected(lambda s: _tenure(s[8]))
    assert _by(data["cohorts"]["signup_month"], lambda i: i["key"]) == _expected(
        lambda s: s[9] or "none"
    )
    # Weighted: the reasons come in the order of revenue lost in the main currency.
    main = data["currencies"][0]
    lost = [Decimal(i["mrr"].get(main, {}).get("lost", "0")) for i in data["reasons"]]
    assert lost == sorted(lost, reverse=True)
    # The answer's label comes from the catalogue.
    labels = {i["answer"]: i["label"] for i in data["answers"]}
    assert labels["why:budget-cut"] == "Our budget was cut"


def test_cohort_filter_narrows_every_figure(history):
    cohort = revenue.parse_cohort(plan="Basic", tenure="0-3m")
    data = revenue.figures(*_range(), cohort)
    chosen = [s for s in HISTORY if s[7] == "Basic" and _tenure(s[8]) == "0-3m"]
    assert data["cases"] == len(chosen)
    assert data["cohort"] == {"plan": "Basic", "tenure": "0-3m", "signup_month": None}
    reasons = _by(data["reasons"], lambda i: i["reason"])
    assert sum(r["cases"] for r in reasons.values()) == len(chosen)

    month = revenue.figures(*_range(), revenue.parse_cohort(signup_month="2025-01"))
    assert month["cases"] == sum(1 for s in HISTORY if s[9] == "2025-01")
    unknown = revenue.figures(*_range(), revenue.parse_cohort(signup_month="none", plan="none"))
    assert unknown["cases"] == sum(1 for s in HISTORY if s[9] is None and not s[7])


def test_a_case_is_on_one_path_and_only_its_reasons_answers_count(catalogue):
    """The path's answer is the one to the case's reason's first single-choice question: an
    answer to another reason's question (the customer changed reason) or to a later question
    alone leaves the case on "no answer"; "eur" and "EUR" are one currency."""
    price, quality = Reason.objects.get(slug="price"), Reason.objects.get(slug="quality")
    first = ReasonQuestion.objects.create(
        reason=price, key="why", kind="choice", prompt="?", choices=[{"key": "a", "label": "A"}]
    )
    later = ReasonQuestion.objects.create(
        reason=price,
        key="then",
        kind="choice",
        prompt="?",
        order=3,
        choices=[{"key": "b", "label": "B"}],
    )
    made = []
    for index, (reason, currency) in enumerate(
        [(price, "eur"), (price, "EUR"), (quality, "EUR"), (price, "EUR")]
    ):
        made.append(
            CancellationCase.objects.create(
                reference=new_reference(),
                subscription_ref=f"one:{index}",
                status="cancelled",
                reason=reason,
                price=Decimal("10.00"),
                currency=currency,
                billing_interval="month",
            )
        )
    answer = {"question_key": "why", "kind": "choice", "choice": "a", "question": first}
    QuestionAnswer.objects.create(case=made[0], **answer)
    QuestionAnswer.objects.create(case=made[2], **answer)  # stale: the case is about quality now
    QuestionAnswer.objects.create(
        case=made[3], question=later, question_key="then", kind="choice", choice="b"
    )
    data = revenue.figures(*_range())
    paths = {(p["reason"], p["answer"]): (p["cases"], p["mrr"]) for p in data["paths"]}
    eur = {"at_stake": "10.00", "lost": "10.00", "saved": "0.00"}
    twenty = {"at_stake": "20.00", "lost": "20.00", "saved": "0.00"}
    assert paths == {
        ("price", "why:a"): (1, {"EUR": eur}),
        ("price", "none"): (2, {"EUR": twenty}),
        ("quality", "none"): (1, {"EUR": eur}),
    }
    assert data["currencies"] == ["EUR"]


@pytest.mark.parametrize(
    ("parameters", "field"),
    [({"tenure": "forever"}, "tenure"), ({"signup_month": "2025-13"}, "signup_month")],
)
def test_bad_cohort_names_the_field(parameters, field):
    with pytest.raises(InvalidInput) as caught:
        revenue.parse_cohort(**parameters)
    assert field in caught.value.errors


def test_zero_cases(db):
    data = revenue.figures(*_range())
    assert data["cases"] == 0
    assert data["reasons"] == data["paths"] == data["answers"] == []
    assert data["currencies"] == []
    assert flow_chart("chart", data) is None


def test_queries_do_not_grow_with_the_cases(history, django_assert_num_queries):
    with django_assert_num_queries(revenue.QUERIES):
        small = revenue.figures(*_range())
    for index in range(40):
        spec = HISTORY[index % len(HISTORY)]
        CancellationCase.objects.create(
            reference=new_reference(),
            subscription_ref=f"more:{index}",
            status=spec[3],
            price=Decimal("9.99"),
            currency="EUR",
            billing_interval="month",
        )
    with django_assert_num_queries(revenue.QUERIES):
        large = revenue.figures(*_range())
    assert large["cases"] == small["cases"] + 40


# --- the chart and the tables print the same numbers ------------------------------------------


def _svg_texts(svg: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def _shown(label: str) -> str:
    """A label as the chart prints it: cut at 30 characters."""
    return label if len(label) <= 30 else label[:29] + "…"


def _node_line(cases: int, mrr: dict[str, dict[str, str]]) -> str:
    amounts = " · ".join(f"{m['at_stake']} {c}" for c, m in mrr.items())
    word = "case" if cases == 1 else "cases"
    return f"{cases} {word} · {amounts}" if amounts else f"{cases} {word}"


def test_chart_prints_the_independent_figures(history):
    svg = str(flow_chart("Flow", revenue.figures(*_range())))
    texts = _svg_texts(svg)
    for key, slot in _expected(lambda s: s[0] or "none").items():
        label = Reason.objects.get(slug=key).localized_label if key != "none" else "No reason given"
        at = texts.index(_shown(label))
        assert texts[at + 1] == _node_line(slot["cases"], slot["mrr"])
    for key, slot in _expected(lambda s: s[2] or "none").items():
        label = (
            Reason.objects.get(slug=key).localized_label if key != "none" else "Not recorded yet"
        )
        lines = [texts[i + 1] for i, t in enumerate(texts) if t == _shown(label)]
        assert _node_line(slot["cases"], slot["mrr"]) in lines
    too = _expected(lambda s: s[1])["too-expensive"]
    assert texts[texts.index("Too expensive") + 1] == _node_line(too["cases"], too["mrr"])
    assert 'role="img"' in svg and "<title>Flow</title>" in svg and "<script" not in svg


def _cells(html: str, attribute: str, value: str) -> list[str]:
    row = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert row is not None, value
    return [unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_dashboard_shows_chart_and_tables(history, superuser_client):
    start, _end = _range()
    response = superuser_client.get(
        reverse("admin:graceful_cancel_dashboard"),
        {"start": timezone.localdate(start).isoformat()},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="gc-chart gc-flow"' in html
    currencies = response.context["mrr"]["currencies"]
    for key, slot in _expected(
        lambda s: (s[0] or "none", f"why:{s[1]}" if s[1] else "none", s[2] or "none")
    ).items():
        cells = _cells(html, "data-path", ">".join(key))
        assert cells[3:6] == [str(slot["cases"]), str(slot["lost"]), str(slot["saved"])]
        money = []
        for currency in currencies:
            m = slot["mrr"].get(currency)
            money += [m["at_stake"], m["lost"], m["saved"]] if m else ["—"] * 3
        assert cells[6:] == money
    for key, slot in _expected(lambda s: _tenure(s[8])).items():
        table = html[html.index('id="gc-revenue-cohort-tenure"') :]
        cells = _cells(table, "data-key", key)
        assert cells[1:4] == [str(slot["cases"]), str(slot["lost"]), str(slot["saved"])]
    assert "cannot be read" in html  # the cases without revenue are said so
    csv = superuser_client.get(
        reverse("admin:graceful_cancel_dashboard"),
        {"start": timezone.localdate(start).isoformat(), "format": "csv"},
    ).content.decode()
    quality = _expected(lambda s: s[0] or "none")["quality"]["mrr"]["EUR"]["at_stake"]
    assert f"mrr_reasons,quality,mrr_at_stake_EUR,{quality}" in csv


def test_dashboard_bad_cohort_is_a_message_not_an_error(history, superuser_client):
    response = superuser_client.get(
        reverse("admin:graceful_cancel_dashboard"), {"signup_month": "soon"}
    )
    assert response.status_code == 200
    assert 'id="gc-revenue-error"' in response.content.decode()


def test_summary_api_and_report_carry_the_figures(history, superuser_client):
    start, end = _range()
    response = superuser_client.get(
        reverse("graceful_cancel_api:analytics-summary"),
        {"start": start.isoformat(), "end": end.isoformat()},
    )
    assert response.status_code == 200
    body = response.json()
    expected = _expected(lambda s: s[0] or "none")
    assert _by(body["mrr"]["reasons"], lambda i: i["reason"]) == expected
    bad = superuser_client.get(reverse("graceful_cancel_api:analytics-summary"), {"tenure": "x"})
    assert bad.status_code == 400 and "tenure" in bad.json()

    out = io.StringIO()
    call_command(
        "graceful_cancel_report",
        "--format=json",
        f"--start={timezone.localdate(start).isoformat()}",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert _by(report["mrr"]["reasons"], lambda i: i["reason"]) == expected
    csv_out = io.StringIO()
    call_command(
        "graceful_cancel_report", f"--start={timezone.localdate(start).isoformat()}", stdout=csv_out
    )
    price = expected["price"]["mrr"]["EUR"]["lost"]
    assert f"mrr_reasons,price,mrr_lost_EUR,{price}" in csv_out.getvalue()


# --- in a browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_revenue_section_in_chromium(history, superuser, live_server):
    """The section as staff see it: the chart drawn, its numbers beside it, the table under it,
    the cohort filter working without JavaScript, nothing wider than a laptop screen."""
    from pathlib import Path

    from tests.support import browser

    shots = Path("/tmp/shots/revenue")
    shots.mkdir(parents=True, exist_ok=True)
    start, _end = _range()
    url = f"{live_server.url}{reverse('admin:graceful_cancel_dashboard')}"
    with (
        browser.chromium() as chromium,
        browser.signed_in_pages(chromium, live_server.url, viewport=browser.DESKTOP) as make,
    ):
        page = make(superuser)
        page.goto(f"{url}?start={timezone.localdate(start).isoformat()}")
        section = page.locator("#gc-revenue")
        section.scroll_into_view_if_needed()
        assert section.locator("svg.gc-flow text").count() > 10
        box = section.locator("svg.gc-flow").bounding_box()
        assert box is not None and box["width"] <= 1280
        section.screenshot(path=str(shots / "dashboard-revenue.png"))
        section.locator("svg.gc-flow").screenshot(path=str(shots / "dashboard-revenue-chart.png"))
        page.select_option("#gc-cohort-plan", "Basic")
        page.click("#gc-revenue-cohort input[type=submit]")
        rows = page.locator("#gc-revenue-paths tbody tr")
        expected = sum(1 for s in HISTORY if s[7] == "Basic")
        cases = sum(int(rows.nth(i).locator("td").nth(3).inner_text()) for i in range(rows.count()))
        assert cases == expected
        page.locator("#gc-revenue").screenshot(path=str(shots / "dashboard-revenue-basic.png"))
