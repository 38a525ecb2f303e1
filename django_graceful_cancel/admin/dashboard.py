"""The retention dashboard: figures from ``analytics.dashboard()``, drawn as inline SVG.

Charts are drawn on the server (no scripts, nothing fetched from elsewhere) and every chart has
its numbers in a table beside it, which also serves screen readers.
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from .. import analytics
from ..conf import app_settings
from ..insights.figures import figures as insights_figures
from ..services import revenue, winback
from .revenue import revenue_section

#: Follow-up funnel stages as staff read them.
FUNNEL_LABELS = {
    "created": _("created"),
    "sent": _("sent"),
    "delivered": _("delivered"),
    "opened": _("opened"),
}

#: Colours with enough contrast on white, told apart by more than hue (the tables carry numbers).
COLOURS = ("#205493", "#d9822b", "#2e8540", "#981b1e", "#6f42c1")


class RangeForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    #: The range ends the day after ``end``: 9999-12-31 would overflow ``datetime``.
    MAX_YEAR = 9998

    def _clean_year(self, field: str) -> dt.date | None:
        value = self.cleaned_data.get(field)
        if value is not None and value.year > self.MAX_YEAR:
            raise forms.ValidationError(
                gettext("Choose a date before the year %(year)d.") % {"year": self.MAX_YEAR + 1}
            )
        return value

    def clean_start(self) -> dt.date | None:
        return self._clean_year("start")

    def clean_end(self) -> dt.date | None:
        return self._clean_year("end")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(gettext("The start date is after the end date."))
        return data


def date_range(request: HttpRequest) -> tuple[RangeForm, dt.datetime, dt.datetime]:
    """The chosen range as aware datetimes ``[start, end)``; the default range when none is."""
    default_start, default_end = analytics.default_range()
    form = RangeForm(request.GET or None)
    start, end = default_start, default_end
    if form.is_bound and form.is_valid():
        tz = timezone.get_current_timezone()
        if form.cleaned_data["start"]:
            start = dt.datetime.combine(form.cleaned_data["start"], dt.time.min, tzinfo=tz)
        if form.cleaned_data["end"]:
            end = dt.datetime.combine(
                form.cleaned_data["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz
            )
    if not form.is_bound:
        form = RangeForm(
            initial={
                "start": timezone.localtime(default_start).date(),
                "end": (timezone.localtime(default_end) - dt.timedelta(days=1)).date(),
            }
        )
    return form, start, end


def cached_dashboard(
    start: dt.datetime, end: dt.datetime, *, refresh: bool = False
) -> dict[str, Any]:
    """``analytics.dashboard()`` through Django's default cache (``DASHBOARD_CACHE_SECONDS``)."""
    seconds = app_settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return {
            **analytics.dashboard(start, end),
            "winback": winback.figures(start, end),
            "insights": insights_figures(start, end),
        }
    key = f"graceful_cancel:dashboard:{get_language()}:{start.isoformat()}:{end.isoformat()}"
    data = None if refresh else cache.get(key)
    if data is None:
        data = {
            **analytics.dashboard(start, end),
            # Returns and win-back lift (docs/returns.md), next to the other figures.
            "winback": winback.figures(start, end),
            # Themes in the customers' words and the suggestions' acceptance (docs/insights.md).
            "insights": insights_figures(start, end),
            "computed_at": timezone.now().isoformat(),
        }
        cache.set(key, data, seconds)
    return data


def dashboard_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    form, start, end = date_range(request)
    data = cached_dashboard(start, end, refresh="refresh" in request.GET)
    if request.GET.get("format") == "csv":
        # With the revenue on every reason (its cohort filter applies), as the report has it.
        mrr = revenue_section(request, start, end)["data"]
        return csv_response({**data, "mrr": mrr}, start, end)
    query = request.GET.copy()
    query.pop("refresh", None)
    refresh_query = query.copy()
    refresh_query["refresh"] = "1"
    query["format"] = "csv"
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Retention dashboard"),
        "opts": model_admin.model._meta,
        "form": form,
        "data": data,
        "start": start,
        "end": end - dt.timedelta(days=1),
        "csv_query": query.urlencode(),
        "refresh_query": refresh_query.urlencode(),
        "computed_at": dt.datetime.fromisoformat(data["computed_at"])
        if data.get("computed_at")
        else None,
        "charts": charts(data),
        # Revenue on every reason, with its cohort filter (admin/revenue.py).
        "mrr": revenue_section(request, start, end),
        "funnel": [
            {**stage, "label": FUNNEL_LABELS.get(stage["stage"], stage["stage"])}
            for stage in (data["follow_ups"] or {}).get("stages", [])
        ],
    }
    return TemplateResponse(request, "admin/django_graceful_cancel/dashboard.html", context)


def csv_response(data: dict[str, Any], start: dt.datetime, end: dt.datetime) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="retention-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["section", "item", "metric", "value"])
    writer.writerows(analytics.dashboard_rows(data))
    if "mrr" in data:
        writer.writerows(revenue.rows(data["mrr"]))
    return response


# --- SVG -----------------------------------------------------------------------------------------


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" class="gc-chart">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(
    x: float, y: float, text: Any, *, anchor: str = "start", size: int = 11, **attrs: str
) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="currentColor"{extra}>{escape(str(text))}</text>'
    )


def _legend(names: list[str], x: float, y: float) -> list[str]:
    body = []
    for i, name in enumerate(names):
        body.append(
            f'<rect x="{x + i * 130:.1f}" y="{y - 9:.1f}" width="10" height="10" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
        )
        body.append(_text(x + i * 130 + 14, y, name))
    return body


def bar_chart(
    label: str,
    rows: list[tuple[str, list[float]]],
    series: list[str],
    *,
    percent: bool = False,
    label_width: int = 220,
) -> SafeString | None:
    """Horizontal grouped bars: one group per row, one bar per series, value at the bar's end."""
    if not rows:
        return None
    width, bar, gap = 560, 12, 8
    top = 24 if len(series) > 1 else 6
    group = bar * len(series) + gap
    height = top + group * len(rows) + 6
    largest = max([v for _name, values in rows for v in values if v is not None] + [0])
    scale_max = 1.0 if percent else (largest or 1)
    room = width - label_width - 60
    body = _legend(series, label_width, 14) if len(series) > 1 else []
    for index, (name, values) in enumerate(rows):
        y = top + index * group
        short = name if len(name) <= 32 else name[:31] + "…"
        body.append(_text(label_width - 6, y + group / 2, short, anchor="end"))
        for s, value in enumerate(values):
            length = 0 if value is None else room * value / scale_max
            colour = COLOURS[s % len(COLOURS)]
            by = y + s * bar
            body.append(
                f'<rect x="{label_width}" y="{by:.1f}" width="{max(length, 0):.1f}" '
                f'height="{bar - 2}" fill="{colour}"/>'
            )
            shown = "—" if value is None else (f"{value:.0%}" if percent else f"{value:g}")
            body.append(_text(label_width + length + 4, by + bar - 3, shown, size=10))
    return _svg(width, height, label, body)


def column_chart(
    label: str, points: list[tuple[str, list[float]]], series: list[str]
) -> SafeString | None:
    """Stacked columns over time, x labels thinned so they never overlap."""
    if not points:
        return None
    width, height, left, bottom, top = 560, 230, 44, 36, 26
    plot_w, plot_h = width - left - 10, height - top - bottom
    totals = [sum(v or 0 for v in values) for _name, values in points]
    largest = max(totals) or 1
    step = plot_w / len(points)
    body = _legend(series, left, 14)
    for tick in range(5):
        value = largest * tick / 4
        y = top + plot_h - plot_h * tick / 4
        body.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        body.append(_text(left - 4, y + 4, f"{value:.0f}", anchor="end", size=10))
    every = max(1, round(len(points) / 8))
    for i, (name, values) in enumerate(points):
        x = left + i * step + step * 0.15
        y = top + plot_h
        for s, value in enumerate(values):
            h = plot_h * (value or 0) / largest
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[s % len(COLOURS)]}"/>'
            )
        if i % every == 0:
            body.append(_text(x + step * 0.35, top + plot_h + 14, name, anchor="middle", size=10))
    return _svg(width, height, label, body)


def interval_chart(label: str, arms: list[dict[str, Any]]) -> SafeString | None:
    """Each variant's lift over the holdout: a dot with its 95% interval and a zero line."""
    arms = [a for a in arms if a.get("lift") is not None]
    if not arms:
        return None
    width, label_width, row = 560, 190, 26
    height = 30 + row * len(arms)
    lows = [a["lift_low"] for a in arms] + [0.0]
    highs = [a["lift_high"] for a in arms] + [0.0]
    span = max(abs(min(lows)), abs(max(highs)), 0.05)
    plot = width - label_width - 20

    def x(value: float) -> float:
        return label_width + plot * (value + span) / (2 * span)

    body = [
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="4" y2="{height - 18}" stroke="#999" '
        'stroke-dasharray="3 3"/>',
        _text(x(-span), height - 4, f"{-span:+.0%}", size=10),
        _text(x(0), height - 4, "0", anchor="middle", size=10),
        _text(x(span), height - 4, f"{span:+.0%}", anchor="end", size=10),
    ]
    for i, arm in enumerate(arms):
        y = 14 + i * row
        body.append(_text(label_width - 6, y + 4, arm["title"][:30], anchor="end"))
        colour = COLOURS[2] if arm["lift_low"] > 0 else COLOURS[0]
        body.append(
            f'<line x1="{x(arm["lift_low"]):.1f}" x2="{x(arm["lift_high"]):.1f}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>'
        )
        body.append(f'<circle cx="{x(arm["lift"]):.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>')
    return _svg(width, height, label, body)


def charts(data: dict[str, Any]) -> dict[str, Any]:
    over_time = [(p["period"], [p["cancelled"], p["saved"]]) for p in data["over_time"]["points"]]
    reasons = [(r["label"], [r["stated"], r["root_cause"]]) for r in data["reasons"]["rows"]]
    offers = [
        (f"{o['reason']} · {o['title']}", [o["acceptance_rate"]]) for o in data["offers_by_reason"]
    ]
    funnel = data["follow_ups"]["stages"] if data["follow_ups"] else []
    return {
        "over_time": column_chart(
            gettext("Cancellations and saves over time"),
            over_time,
            [gettext("Cancelled"), gettext("Saved")],
        ),
        "reasons": bar_chart(
            gettext("Reasons stated and root causes found"),
            reasons,
            [gettext("Stated"), gettext("Root cause")],
        ),
        "offers": bar_chart(
            gettext("Offer acceptance by reason and offer"),
            offers,
            [gettext("Accepted")],
            percent=True,
            label_width=250,
        ),
        "funnel": bar_chart(
            gettext("Follow-up delivery funnel"),
            [(str(FUNNEL_LABELS.get(s["stage"], s["stage"])), [s["count"]]) for s in funnel],
            [gettext("Follow-ups")],
        ),
        "surveys": bar_chart(
            gettext("Survey scores"),
            [(str(s["score"]), [s["count"]]) for s in data["surveys"]["scores"]],
            [gettext("Answers")],
            label_width=60,
        ),
        "save_checks": bar_chart(
            gettext("Saved customers still subscribed"),
            [
                (gettext("after %(days)s days") % {"days": c["days"]}, [c["kept_rate"]])
                for c in data["save_checks"]["checks"]
            ],
            [gettext("Still subscribed")],
            percent=True,
            label_width=110,
        ),
        "experiments": [
            interval_chart(
                gettext("Lift over the holdout, with 95%% interval: %(name)s")
                % {"name": e["experiment"]},
                e["variants"],
            )
            for e in data["experiments"]
        ],
    }
