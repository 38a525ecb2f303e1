"""The revenue flow chart: stated reason -> follow-up answer -> root cause, drawn as inline SVG.

A Sankey-like chart in three columns, drawn on the server like the dashboard's other charts (no
scripts, nothing fetched). A node's height is its number of cases; beside it stand its label,
its cases and its monthly recurring revenue per currency, so the figures read without hovering.
The same figures are in the table under the chart (templates/admin/django_graceful_cancel/
includes/revenue.html), which also serves screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

#: Same palette as the dashboard's charts: enough contrast on white.
COLOURS = ("#205493", "#d9822b", "#2e8540", "#981b1e", "#6f42c1")
#: Colour of the flows of several reasons mixed (the "no answer" node and what leaves it).
MIXED = "#8a8a8a"
WIDTH = 900
#: Left edge of each column's nodes.
COLUMNS = (200, 450, 700)
NODE_WIDTH = 12
#: Pixels for all the cases of a column (a node is never shorter than its two lines of text).
PLOT_HEIGHT = 320
LABEL_HEIGHT = 30
GAP = 6
TOP = 26


@dataclass
class Node:
    key: tuple[str, ...]
    label: str
    colour: str
    cases: int = 0
    mrr: dict[str, dict[str, str]] = field(default_factory=dict)
    y: float = 0.0
    height: float = 0.0
    out_offset: float = 0.0
    in_offset: float = 0.0


def money_text(mrr: dict[str, dict[str, str]], metric: str = "at_stake") -> str:
    """``"120.00 EUR · 40.00 USD"``: one amount per currency, never added together."""
    return " · ".join(f"{money[metric]} {currency}" for currency, money in mrr.items())


def node_text(cases: int, mrr: dict[str, dict[str, str]]) -> str:
    amounts = money_text(mrr)
    shown = ngettext("%(cases)s case", "%(cases)s cases", cases) % {"cases": cases}
    return f"{shown} · {amounts}" if amounts else shown


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> str:
    # The white outline keeps a label readable where it crosses a flow.
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="currentColor" stroke="#fff" stroke-width="3" paint-order="stroke">'
        f"{escape(text)}</text>"
    )


def _short(text: str, length: int = 30) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _band(x0: float, y0: float, x1: float, y1: float, height: float, colour: str) -> str:
    middle = (x0 + x1) / 2
    return (
        f'<path d="M{x0:.1f},{y0:.1f} C{middle:.1f},{y0:.1f} {middle:.1f},{y1:.1f} '
        f"{x1:.1f},{y1:.1f} L{x1:.1f},{y1 + height:.1f} C{middle:.1f},{y1 + height:.1f} "
        f'{middle:.1f},{y0 + height:.1f} {x0:.1f},{y0 + height:.1f} Z" fill="{colour}" '
        f'fill-opacity="0.35"/>'
    )


def _node(key: tuple[str, ...], item: dict[str, Any], colour: str) -> Node:
    return Node(key=key, label=item["label"], colour=colour, cases=item["cases"], mrr=item["mrr"])


def _layout(nodes: list[Node], scale: float) -> float:
    """Stack a column's nodes from the top; returns the column's height."""
    y = float(TOP)
    for node in nodes:
        node.height = max(node.cases * scale, 2)
        node.y = y
        y += max(node.height, LABEL_HEIGHT) + GAP
    return y


def flow_chart(label: str, data: dict[str, Any]) -> SafeString | None:
    """The chart for ``services.revenue.figures()``; None without cases.

    Nodes carry the service's own figures (``reasons``, ``answers``, ``root_causes``), so the
    numbers beside them are exactly those of the tables; the bands are the ``paths``.
    """
    paths = [p for p in data["paths"] if p["cases"]]
    if not paths:
        return None
    colours: dict[str, str] = {}
    for item in data["reasons"]:
        colours[item["reason"]] = COLOURS[len(colours) % len(COLOURS)]

    columns: list[dict[tuple[str, ...], Node]] = [{}, {}, {}]
    key: tuple[str, ...]
    for item in data["reasons"]:
        key = ("reason", item["reason"])
        columns[0][key] = _node(key, item, colours.get(item["reason"], MIXED))
    for item in data["answers"]:
        # An answer belongs to its reason's question, and so does "no answer": the bands from
        # each reason stay apart until the root cause.
        key = ("answer", item["reason"], item["answer"])
        columns[1][key] = _node(key, item, colours.get(item["reason"], MIXED))
    for item in data["root_causes"]:
        key = ("root", item["root_cause"])
        columns[2][key] = _node(key, item, MIXED)
    links: list[dict[tuple[tuple[str, ...], tuple[str, ...]], int]] = [{}, {}]
    for path in paths:
        reason = ("reason", path["reason"])
        answer = ("answer", path["reason"], path["answer"])
        root = ("root", path["root_cause"])
        links[0][(reason, answer)] = links[0].get((reason, answer), 0) + path["cases"]
        links[1][(answer, root)] = links[1].get((answer, root), 0) + path["cases"]

    # The service's order (most revenue lost first); answers grouped under their reason's place.
    place = {key[1]: index for index, key in enumerate(columns[0])}
    answers = sorted(columns[1].values(), key=lambda n: place.get(n.key[1], len(place)))
    ordered = [list(columns[0].values()), answers, list(columns[2].values())]
    total = sum(n.cases for n in ordered[0])
    scale = PLOT_HEIGHT / total
    height = max(_layout(column, scale) for column in ordered) + 4

    body = [
        _text(COLUMNS[0] + NODE_WIDTH, 14, gettext("Stated reason"), anchor="end", size=12),
        _text(COLUMNS[1], 14, gettext("Follow-up answer"), size=12),
        _text(COLUMNS[2], 14, gettext("Root cause found by staff"), size=12),
    ]
    for stage, stage_links in enumerate(links):
        sources, targets = columns[stage], columns[stage + 1]
        # Bands leave and arrive in the order of the nodes, so they cross as little as possible.
        for (source_key, target_key), n in sorted(
            stage_links.items(),
            key=lambda item: (sources[item[0][0]].y, targets[item[0][1]].y),
        ):
            source, target = sources[source_key], targets[target_key]
            band = n * scale if source.height > 2 else source.height
            body.append(
                _band(
                    COLUMNS[stage] + NODE_WIDTH,
                    source.y + source.out_offset,
                    COLUMNS[stage + 1],
                    target.y + target.in_offset,
                    band,
                    source.colour,
                )
            )
            source.out_offset += band
            target.in_offset += band
    for index, column in enumerate(ordered):
        x = COLUMNS[index]
        for node in column:
            body.append(
                f'<rect x="{x}" y="{node.y:.1f}" width="{NODE_WIDTH}" '
                f'height="{node.height:.1f}" fill="{node.colour}"/>'
            )
            if index == 0:
                tx, anchor = x - 6, "end"
            else:
                tx, anchor = x + NODE_WIDTH + 6, "start"
            body.append(_text(tx, node.y + 11, _short(node.label), anchor=anchor))
            body.append(
                _text(tx, node.y + 24, node_text(node.cases, node.mrr), anchor=anchor, size=10)
            )
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="100%" role="img" aria-label="{escape(label)}" class="gc-chart gc-flow">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )
