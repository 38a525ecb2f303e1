"""Revenue on every reason: monthly recurring revenue (MRR) lost and saved, per currency.

Each case keeps a snapshot of what the customer paid (``price`` per ``billing_interval``, in
``currency``). ``monthly_amount`` turns it into a monthly amount; the figures add those amounts up
per stated reason, per follow-up answer (the sub-reason), per root cause, per path
"stated reason -> follow-up answer -> root cause", and per cohort (plan, tenure band, signup
month). Amounts are never added across currencies: every figure is a dict by currency.

What is counted:

* ``cases``: every case started in the range; ``lost``: the cancelled and withdrawn ones;
  ``saved``: the saved ones (an accepted offer).
* ``mrr``: per currency, ``at_stake`` (every case), ``lost`` and ``saved`` (as above).
* A case with no price, no currency or a billing interval this module cannot read counts in
  the counts but not in the revenue; ``without_revenue`` says how many, and why.

Why from the cases and not from the per-day rollups (``services.rollups``): the rollups have no
follow-up answer, tenure or signup month to group by, and a column per dimension would make them
as many rows as cases (see that module's docstring). Every figure here is a fixed number of
``GROUP BY`` queries (``QUERIES``) whatever the number of cases; the normalisation runs in Python
over the grouped rows, whose number depends on the catalogue, the currencies and the intervals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Concat, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .. import intervals
from ..choices import CaseStatus, QuestionKind
from ..exceptions import InvalidInput
from ..models import CancellationCase, QuestionAnswer, Reason, ReasonQuestion

# One reading of billing intervals for every figure (intervals.py).
months_per_interval = intervals.months_per_interval

#: Tenure bands, in days since the subscription started: ``(key, first day, day after)``.
TENURE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-3m", 0, 91),
    ("3-12m", 91, 365),
    ("1-2y", 365, 730),
    ("2y+", 730, None),
)
#: The key of a case without the dimension (no answer, no root cause, no tenure, ...).
NONE = "none"
#: Statuses counted as revenue lost.
LOST_STATUSES = (CaseStatus.CANCELLED, CaseStatus.WITHDRAWN)
#: Queries ``figures`` runs, whatever the number of cases: the catalogue's reasons and
#: questions, the cases by path and the answers to the first questions (skipped when no reason
#: has a single-choice question), and one per cohort dimension.
QUERIES = 7

_MONEY = Decimal("0.01")


def monthly_amount(price: Decimal | None, interval: str | None) -> Decimal | None:
    """``price`` per ``interval`` as a monthly amount (not rounded); None when either is unknown."""
    if price is None:
        return None
    months = months_per_interval(interval)
    if months is None:
        return None
    return price / months


# --- cohorts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    """Which cases the figures are about: a plan, a tenure band (``TENURE_BANDS``), a signup
    month (the month the subscription started, in the site's time zone). ``NONE`` picks the
    cases without it; None means any."""

    plan: str | None = None
    tenure: str | None = None
    signup_month: date | str | None = None

    def condition(self, prefix: str = "") -> Q:
        """The cohort as a condition on the case's fields (``prefix``: the path to the case)."""
        condition = Q()
        if self.plan is not None:
            condition &= Q(**{f"{prefix}plan": "" if self.plan == NONE else self.plan})
        if self.tenure is not None:
            condition &= _tenure_condition(self.tenure, prefix)
        if self.signup_month == NONE:
            condition &= Q(**{f"{prefix}subscription_started_at__isnull": True})
        elif isinstance(self.signup_month, date):
            condition &= Q(
                **{
                    f"{prefix}subscription_started_at__gte": _local_midnight(self.signup_month),
                    f"{prefix}subscription_started_at__lt": _local_midnight(
                        _next_month(self.signup_month)
                    ),
                }
            )
        return condition

    def as_dict(self) -> dict[str, str | None]:
        month = self.signup_month
        return {
            "plan": self.plan,
            "tenure": self.tenure,
            "signup_month": month.strftime("%Y-%m") if isinstance(month, date) else month,
        }


def parse_cohort(
    plan: str | None = None, tenure: str | None = None, signup_month: str | None = None
) -> Cohort:
    """The cohort named by query parameters; ``InvalidInput`` names the field that is wrong."""
    bands = [key for key, *_rest in TENURE_BANDS] + [NONE]
    if tenure and tenure not in bands:
        raise InvalidInput.single(
            "tenure",
            "unknown_tenure_band",
            _("Choose one of the tenure bands: %(bands)s.") % {"bands": ", ".join(bands)},
        )
    month: date | str | None = None
    if signup_month == NONE:
        month = NONE
    elif signup_month:
        try:
            month = datetime.strptime(signup_month, "%Y-%m").date()
        except ValueError:
            raise InvalidInput.single(
                "signup_month", "invalid_month", _("Give the signup month as YYYY-MM.")
            ) from None
    return Cohort(plan=plan or None, tenure=tenure or None, signup_month=month)


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(
        datetime(day.year, day.month, day.day), timezone.get_default_timezone()
    )


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _tenure_condition(key: str, prefix: str = "") -> Q:
    if key == NONE:
        return Q(**{f"{prefix}tenure_days__isnull": True})
    for band, first, after in TENURE_BANDS:
        if band == key:
            condition = Q(**{f"{prefix}tenure_days__gte": first})
            if after is not None:
                condition &= Q(**{f"{prefix}tenure_days__lt": after})
            return condition
    return Q(pk__in=[])


def tenure_label(key: str) -> str:
    labels = {
        "0-3m": pgettext("tenure band", "Under 3 months"),
        "3-12m": pgettext("tenure band", "3 to 12 months"),
        "1-2y": pgettext("tenure band", "1 to 2 years"),
        "2y+": pgettext("tenure band", "2 years or more"),
        NONE: pgettext("tenure band", "Unknown"),
    }
    return labels.get(key, key)


def _tenure_band() -> Case:
    return Case(
        *[
            When(
                _tenure_condition(key),
                then=Value(key),
            )
            for key, *_rest in TENURE_BANDS
        ],
        default=Value(NONE),
        output_field=CharField(),
    )


# --- adding up ----------------------------------------------------------------------------------


class _Tally:
    """Counts and per-currency monthly amounts of one group of cases."""

    def __init__(self) -> None:
        self.cases = 0
        self.lost = 0
        self.saved = 0
        self.mrr: dict[str, dict[str, Decimal]] = {}

    def add(self, status: str, n: int, currency: str, monthly: Decimal | None) -> None:
        self.cases += n
        is_lost = status in LOST_STATUSES
        is_saved = status == CaseStatus.SAVED
        self.lost += n if is_lost else 0
        self.saved += n if is_saved else 0
        if monthly is None:
            return
        money = self.mrr.setdefault(
            currency, {"at_stake": Decimal(0), "lost": Decimal(0), "saved": Decimal(0)}
        )
        money["at_stake"] += monthly
        if is_lost:
            money["lost"] += monthly
        if is_saved:
            money["saved"] += monthly

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "lost": self.lost,
            "saved": self.saved,
            "mrr": {
                currency: {name: _money(value) for name, value in money.items()}
                for currency, money in sorted(self.mrr.items())
            },
        }


def _money(value: Decimal) -> str:
    return str(value.quantize(_MONEY))


@dataclass
class _Row:
    """One grouped row: its dimensions, status, and the money it carries."""

    keys: dict[str, Any]
    status: str
    cases: int
    currency: str
    interval: str
    monthly: Decimal | None


class _Exclusions:
    def __init__(self) -> None:
        self.no_price = 0
        self.unknown_interval = 0
        self.no_currency = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "no_price": self.no_price,
            "unknown_interval": self.unknown_interval,
            "no_currency": self.no_currency,
        }


def _grouped(
    rows: QuerySet, dims: dict[str, Any], exclusions: _Exclusions | None, prefix: str = ""
) -> list[_Row]:
    """``rows`` grouped by ``dims`` (name: expression) and the case's status, currency and
    interval (``prefix``: the path to the case): one query. Each group's summed price is
    normalised to a month by its interval."""
    names = {f"rv_{name}": expression for name, expression in dims.items()}
    status, currency_field, interval = (
        f"{prefix}status",
        f"{prefix}currency",
        f"{prefix}billing_interval",
    )
    grouped = (
        rows.annotate(**names)
        .values(*names, status, currency_field, interval)
        .annotate(
            rv_cases=Count("pk"),
            rv_priced=Count(f"{prefix}price"),
            rv_price=Sum(f"{prefix}price"),
        )
        .order_by()
    )
    # Keyed by what a row is about, so "eur" and "EUR" end up in one row.
    found: dict[tuple[Any, ...], _Row] = {}
    for row in grouped:
        priced = row["rv_priced"]
        months = months_per_interval(row[interval])
        currency = (row[currency_field] or "").upper()
        monthly = None
        if exclusions is not None:
            exclusions.no_price += row["rv_cases"] - priced
        if priced:
            if months is None:
                if exclusions is not None:
                    exclusions.unknown_interval += priced
            elif not currency:
                if exclusions is not None:
                    exclusions.no_currency += priced
            else:
                monthly = (row["rv_price"] or Decimal(0)) / months
        keys = {name: row[f"rv_{name}"] for name in dims}
        about = (*keys.values(), row[status], currency, row[interval] or "")
        same = found.get(about)
        if same is None:
            found[about] = _Row(keys, row[status], row["rv_cases"], currency, about[-1], monthly)
            continue
        same.cases += row["rv_cases"]
        if monthly is not None:
            same.monthly = (same.monthly or Decimal(0)) + monthly
    return list(found.values())


def _first_questions(questions: Iterable[ReasonQuestion]) -> dict[int, int]:
    """Each reason's first active single-choice question (catalogue order): reason -> question.

    The path's sub-reason is the answer to that question, so a case is on exactly one path
    (a reason may ask several questions) and the answers are read with one join, not one
    subquery per case (measured: 1.5 s of 2.8 s at 100,000 cases on PostgreSQL).
    """
    first: dict[int, int] = {}
    for question in sorted(questions, key=lambda q: (q.order, q.pk)):
        if question.is_active and question.kind == QuestionKind.CHOICE:
            first.setdefault(question.reason_id, question.pk)
    return first


def _case_condition(
    start: datetime | None, end: datetime | None, cohort: Cohort, prefix: str = ""
) -> Q:
    """The cases started in ``[start, end)`` in the cohort, as a condition (``prefix``: the
    path to the case, so a related table is filtered by a join, not a subquery)."""
    condition = cohort.condition(prefix)
    if start is not None:
        condition &= Q(**{f"{prefix}created_at__gte": start})
    if end is not None:
        condition &= Q(**{f"{prefix}created_at__lt": end})
    return condition


def _path_rows(
    start: datetime | None,
    end: datetime | None,
    cohort: Cohort,
    questions: Iterable[ReasonQuestion],
    exclusions: _Exclusions,
) -> list[_Row]:
    """The cases grouped by reason, answer (``question_key:choice``, None: no answer) and root
    cause: one grouping of the cases and one of the answers to the first questions (two
    queries; one when no reason has a single-choice question). The cases without an answer
    are the first minus the second, group by group."""
    dims = {"reason": F("reason_id"), "root_cause": F("root_cause_id")}
    case_rows = _grouped(
        CancellationCase.objects.filter(_case_condition(start, end, cohort)), dims, exclusions
    )
    first = _first_questions(questions)
    if not first:
        for row in case_rows:
            row.keys["answer"] = None
        return case_rows
    asked = Q(pk__in=[])
    for reason_id, question_id in first.items():
        asked |= Q(case__reason_id=reason_id, question_id=question_id)
    answers = (
        QuestionAnswer.objects.filter(_case_condition(start, end, cohort, "case__"))
        .filter(asked, kind=QuestionKind.CHOICE)
        .exclude(choice="")
    )
    answer_rows = _grouped(
        answers,
        {
            "reason": F("case__reason_id"),
            "root_cause": F("case__root_cause_id"),
            "answer": Concat(F("question_key"), Value(":"), F("choice"), output_field=CharField()),
        },
        None,
        prefix="case__",
    )

    def group(row: _Row) -> tuple[Any, ...]:
        return (row.keys["reason"], row.keys["root_cause"], row.status, row.currency, row.interval)

    answered: dict[tuple[Any, ...], tuple[int, Decimal]] = {}
    for row in answer_rows:
        cases, money = answered.get(group(row), (0, Decimal(0)))
        answered[group(row)] = (cases + row.cases, money + (row.monthly or Decimal(0)))
    found = list(answer_rows)
    for row in case_rows:
        cases, money = answered.get(group(row), (0, Decimal(0)))
        if row.cases > cases:
            found.append(
                _Row(
                    {**row.keys, "answer": None},
                    row.status,
                    row.cases - cases,
                    row.currency,
                    row.interval,
                    None if row.monthly is None else row.monthly - money,
                )
            )
    return found


def _ranked(tallies: dict[Any, _Tally], primary: str | None) -> list[tuple[Any, _Tally]]:
    """Largest MRR lost first (in the currency with the most revenue at stake), then cases."""

    def weight(item: tuple[Any, _Tally]) -> tuple[Decimal, int, str]:
        tally = item[1]
        lost = tally.mrr.get(primary or "", {}).get("lost", Decimal(0))
        return (-lost, -tally.cases, str(item[0]))

    return sorted(tallies.items(), key=weight)


def figures(
    start: datetime | None = None,
    end: datetime | None = None,
    cohort: Cohort | None = None,
) -> dict[str, Any]:
    """Revenue on every reason for the cases started in ``[start, end)`` (``QUERIES`` queries).

    Returns ``currencies`` (largest revenue at stake first), ``cases``, ``without_revenue``
    (``no_price``, ``unknown_interval``, ``no_currency``), ``totals``, and lists ``reasons``,
    ``answers``, ``root_causes`` and ``paths`` (each item: its keys and labels, ``cases``,
    ``lost``, ``saved`` and ``mrr`` by currency with ``at_stake``, ``lost``, ``saved`` as
    strings with two decimals), then ``cohorts`` (``plan``, ``tenure``, ``signup_month``) and
    the ``cohort`` the figures were filtered by.
    """
    cohort = cohort or Cohort()
    reasons = {r.pk: r for r in Reason.objects.only("pk", "slug", "label", "translations")}
    catalogue = list(
        ReasonQuestion.objects.only(
            "pk",
            "reason_id",
            "key",
            "kind",
            "prompt",
            "choices",
            "translations",
            "order",
            "is_active",
        )
    )
    questions = {(q.reason_id, q.key): q for q in catalogue}
    exclusions = _Exclusions()
    path_rows = _path_rows(start, end, cohort, catalogue, exclusions)

    total = _Tally()
    by_reason: dict[int | None, _Tally] = {}
    by_answer: dict[tuple[int | None, str | None], _Tally] = {}
    by_root: dict[int | None, _Tally] = {}
    by_path: dict[tuple[int | None, str | None, int | None], _Tally] = {}
    for row in path_rows:
        reason, answer, root = row.keys["reason"], row.keys["answer"], row.keys["root_cause"]
        for tally in (
            total,
            by_reason.setdefault(reason, _Tally()),
            by_answer.setdefault((reason, answer), _Tally()),
            by_root.setdefault(root, _Tally()),
            by_path.setdefault((reason, answer, root), _Tally()),
        ):
            tally.add(row.status, row.cases, row.currency, row.monthly)

    currencies = [
        c for c, _m in sorted(total.mrr.items(), key=lambda item: (-item[1]["at_stake"], item[0]))
    ]
    primary = currencies[0] if currencies else None

    def reason_key(pk: int | None) -> tuple[str, str]:
        reason = reasons.get(pk) if pk is not None else None
        if reason is None:
            return NONE, _("No reason given")
        return reason.slug, reason.localized_label

    def root_key(pk: int | None) -> tuple[str, str]:
        reason = reasons.get(pk) if pk is not None else None
        if reason is None:
            return NONE, _("Not recorded yet")
        return reason.slug, reason.localized_label

    def answer_key(reason_pk: int | None, answer: str | None) -> tuple[str, str]:
        if not answer:
            return NONE, _("No answer")
        question_key, _sep, choice = answer.partition(":")
        question = questions.get((reason_pk, question_key)) if reason_pk is not None else None
        if question is None:
            return answer, choice
        return answer, dict(question.localized_choices()).get(choice, choice)

    reason_items = []
    for pk, tally in _ranked(by_reason, primary):
        slug, label = reason_key(pk)
        reason_items.append({"reason": slug, "label": label, **tally.as_dict()})
    answer_items = []
    for (reason_pk, answer), tally in _ranked(by_answer, primary):
        key, label = answer_key(reason_pk, answer)
        reason_slug, reason_label = reason_key(reason_pk)
        answer_items.append(
            {
                "reason": reason_slug,
                "reason_label": reason_label,
                "answer": key,
                "label": label,
                **tally.as_dict(),
            }
        )
    root_items = []
    for pk, tally in _ranked(by_root, primary):
        slug, label = root_key(pk)
        root_items.append({"root_cause": slug, "label": label, **tally.as_dict()})
    path_items = []
    for (reason_pk, answer, root_pk), tally in _ranked(by_path, primary):
        reason_slug, reason_label = reason_key(reason_pk)
        answer_slug, answer_label = answer_key(reason_pk, answer)
        root_slug, root_label = root_key(root_pk)
        path_items.append(
            {
                "reason": reason_slug,
                "reason_label": reason_label,
                "answer": answer_slug,
                "answer_label": answer_label,
                "root_cause": root_slug,
                "root_cause_label": root_label,
                **tally.as_dict(),
            }
        )

    return {
        "currencies": currencies,
        "cases": total.cases,
        "without_revenue": exclusions.as_dict(),
        "totals": total.as_dict(),
        "reasons": reason_items,
        "answers": answer_items,
        "root_causes": root_items,
        "paths": path_items,
        "cohorts": _cohorts(
            CancellationCase.objects.filter(_case_condition(start, end, cohort)), primary
        ),
        "cohort": cohort.as_dict(),
    }


def _cohorts(cases: QuerySet, primary: str | None) -> dict[str, list[dict[str, Any]]]:
    """The figures per plan, tenure band and signup month (one query each)."""
    zone = timezone.get_default_timezone()
    found: dict[str, list[dict[str, Any]]] = {}
    dimensions: dict[str, Any] = {
        "plan": F("plan"),
        "tenure": _tenure_band(),
        "signup_month": TruncMonth("subscription_started_at", tzinfo=zone),
    }
    for name, expression in dimensions.items():
        tallies: dict[str, _Tally] = {}
        for row in _grouped(cases, {name: expression}, None):
            tallies.setdefault(_cohort_key(name, row.keys[name]), _Tally()).add(
                row.status, row.cases, row.currency, row.monthly
            )
        items = []
        for key, tally in _ranked(tallies, primary):
            label = key
            if name == "tenure":
                label = tenure_label(key)
            elif key == NONE:
                label = _("Unknown")
            items.append({"key": key, "label": label, **tally.as_dict()})
        found[name] = items
    return found


def _cohort_key(name: str, value: Any) -> str:
    if value in (None, ""):
        return NONE
    if name == "signup_month":
        moment = value
        if isinstance(moment, datetime):
            moment = timezone.localtime(moment, timezone.get_default_timezone())
        return f"{moment.year:04d}-{moment.month:02d}"
    return str(value)


def rows(data: dict[str, Any]) -> Iterable[tuple[str, str, str, Any]]:
    """The figures flattened to ``(section, item, metric, value)`` rows, like the dashboard's
    CSV (``analytics.dashboard_rows``): sections ``mrr_reasons``, ``mrr_answers``,
    ``mrr_root_causes``, ``mrr_paths``, ``mrr_cohort_<dimension>``."""
    yield ("mrr", "all", "cases", data["cases"])
    for why, n in data["without_revenue"].items():
        yield ("mrr", "all", f"without_revenue_{why}", n)
    sections: list[tuple[str, list[dict[str, Any]], Any]] = [
        ("mrr_reasons", data["reasons"], lambda i: i["reason"]),
        ("mrr_answers", data["answers"], lambda i: f"{i['reason']}/{i['answer']}"),
        ("mrr_root_causes", data["root_causes"], lambda i: i["root_cause"]),
        (
            "mrr_paths",
            data["paths"],
            lambda i: f"{i['reason']}>{i['answer']}>{i['root_cause']}",
        ),
    ]
    for dimension, items in data["cohorts"].items():
        sections.append((f"mrr_cohort_{dimension}", items, lambda i: i["key"]))
    for section, items, name in sections:
        for item in items:
            for metric in ("cases", "lost", "saved"):
                yield (section, name(item), metric, item[metric])
            for currency, money in item["mrr"].items():
                for metric, value in money.items():
                    yield (section, name(item), f"mrr_{metric}_{currency}", value)
