"""The insights section of the dashboard and the report: themes and the acceptance rate.

Plain data (JSON-serialisable), so the dashboard's cache can hold it next to its other figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .suggestions import acceptance_rate
from .themes import find_themes


def figures(start: datetime | None, end: datetime | None) -> dict[str, Any] | None:
    """Themes in the words of the cases started in ``[start, end)`` and how staff received the
    suggestions made then; None when there is neither (nothing to show)."""
    themes = find_themes(start, end)
    rate = acceptance_rate(start, end)
    if not themes and not (rate.decided or rate.pending):
        return None
    return {
        "themes": [
            {
                "label": theme.label,
                "terms": theme.terms,
                "cases": theme.cases,
                "share": theme.share,
                "quotes": theme.quotes,
            }
            for theme in themes
        ],
        "acceptance": {
            "accepted": rate.accepted,
            "rejected": rate.rejected,
            "pending": rate.pending,
            "decided": rate.decided,
            "rate": rate.rate,
        },
    }


def rows(found: dict[str, Any] | None) -> list[list[Any]]:
    """The figures as the report's CSV rows: ``[section, item, metric, value]``."""
    if found is None:
        return []
    lines: list[list[Any]] = []
    for theme in found["themes"]:
        lines.append(["themes", theme["label"], "cases", theme["cases"]])
        lines.append(["themes", theme["label"], "share", round(theme["share"], 4)])
        lines.extend(
            ["themes", theme["label"], f"quote {n}", quote]
            for n, quote in enumerate(theme["quotes"], start=1)
        )
    for metric, value in found["acceptance"].items():
        lines.append(["suggestions", "all", metric, value])
    return lines
