"""The dashboard's "revenue on every reason" section: figures, cohort filter and flow chart.

The figures are ``services.revenue.figures()``; this module reads the cohort from the query
string (a wrong value is shown as an error and the figures fall back to every case), caches the
figures like the rest of the dashboard, and lays them out for the template
(``includes/revenue.html``), whose tables cannot look a currency up in a dict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import get_language, gettext

from ..conf import app_settings
from ..exceptions import InvalidInput
from ..services import revenue
from .flowchart import flow_chart

#: The query parameters of the cohort filter.
COHORT_PARAMETERS = ("plan", "tenure", "signup_month")


def cached_figures(
    start: dt.datetime, end: dt.datetime, cohort: revenue.Cohort, *, refresh: bool = False
) -> dict[str, Any]:
    """``revenue.figures()`` through the default cache for ``DASHBOARD_CACHE_SECONDS``."""
    seconds = app_settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return revenue.figures(start, end, cohort)
    chosen = cohort.as_dict()
    key = "graceful_cancel:revenue:{}:{}:{}:{}".format(
        get_language(),
        start.isoformat(),
        end.isoformat(),
        ":".join(f"{name}={chosen[name] or ''}" for name in COHORT_PARAMETERS),
    )
    data = None if refresh else cache.get(key)
    if data is None:
        data = revenue.figures(start, end, cohort)
        cache.set(key, data, seconds)
    return data


def _with_columns(items: list[dict[str, Any]], currencies: list[str]) -> list[dict[str, Any]]:
    """Each item with ``money``: its amounts in the order of ``currencies`` (None: none)."""
    return [
        {**item, "money": [item["mrr"].get(currency) for currency in currencies]} for item in items
    ]


def _keyed(
    items: list[dict[str, Any]], currencies: list[str], key: Callable[[dict[str, Any]], str]
) -> list[dict[str, Any]]:
    """Items with their ``key`` for the table rows and the ``name`` shown; an answer is named
    with its reason ("No answer" alone would not say to what)."""
    return [
        {
            **item,
            "key": key(item),
            "name": f"{item['reason_label']} → {item['label']}"
            if "reason_label" in item
            else item["label"],
        }
        for item in _with_columns(items, currencies)
    ]


def revenue_section(request: HttpRequest, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Everything the template's revenue section shows, for the dashboard's range."""
    error = None
    try:
        cohort = revenue.parse_cohort(**{name: request.GET.get(name) for name in COHORT_PARAMETERS})
    except InvalidInput as exc:
        error = exc
        cohort = revenue.Cohort()
    data = cached_figures(start, end, cohort, refresh="refresh" in request.GET)
    currencies = data["currencies"]
    plans = _with_columns(data["cohorts"]["plan"], currencies)
    tenures = _with_columns(data["cohorts"]["tenure"], currencies)
    months = _with_columns(data["cohorts"]["signup_month"], currencies)
    kept = request.GET.copy()
    for name in (*COHORT_PARAMETERS, "refresh", "format"):
        kept.pop(name, None)
    return {
        "data": data,
        "currencies": currencies,
        "error": error,
        "chart": flow_chart(
            gettext("Stated reason, follow-up answer and root cause: cases and monthly revenue"),
            data,
        ),
        "paths": _with_columns(data["paths"], currencies),
        "weighted": [
            (
                gettext("Stated reasons"),
                "reasons",
                _keyed(data["reasons"], currencies, lambda i: i["reason"]),
            ),
            (
                gettext("Follow-up answers"),
                "answers",
                _keyed(data["answers"], currencies, lambda i: f"{i['reason']}/{i['answer']}"),
            ),
            (
                gettext("Root causes"),
                "root-causes",
                _keyed(data["root_causes"], currencies, lambda i: i["root_cause"]),
            ),
        ],
        "cohorts": [
            (gettext("By plan"), gettext("Plan"), "plan", plans),
            (gettext("By tenure"), gettext("Tenure"), "tenure", tenures),
            (gettext("By signup month"), gettext("Signup month"), "signup_month", months),
        ],
        "plans": plans,
        "signup_months": months,
        "without_revenue": sum(data["without_revenue"].values()),
        "tenure_bands": [(key, revenue.tenure_label(key)) for key, *_r in revenue.TENURE_BANDS]
        + [(revenue.NONE, revenue.tenure_label(revenue.NONE))],
        # The range's own parameters, kept by the cohort form and links.
        "range_query": kept.urlencode(),
        "range_fields": [(name, value) for name, value in kept.items()],
    }
