"""Who hears each reason: the routes of ``GRACEFUL_CANCEL["FEEDBACK_ROUTES"]``.

A route is keyed by a reason slug or a reason category and names its recipients (email addresses,
staff groups) and how they hear (``"each"``: one email per case; ``"digest"``: a daily or weekly
summary)::

    GRACEFUL_CANCEL = {
        "FEEDBACK_ROUTES": {
            "price": {"to": ["pricing@example.com"], "mode": "digest", "every": "weekly"},
            "product": {"groups": ["Product"], "mode": "each"},
        },
    }

This module only reads the setting (no query, no mail): the message copy asks it whether a claim
such as "your answer goes to the people who set our prices" is true (``rendering.py``), the
feedback service sends what it routes (``feedback.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..conf import app_settings

if TYPE_CHECKING:
    from ..models import Reason

MODES = ("each", "digest")
PERIODS = ("daily", "weekly")
_KEYS = {"to", "groups", "mode", "every"}


@dataclass(frozen=True)
class Route:
    """One entry of ``FEEDBACK_ROUTES``."""

    #: The reason slug or category it is keyed by.
    key: str
    to: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    #: "each" or "digest".
    mode: str = "each"
    #: For digests: "daily" or "weekly".
    every: str = "weekly"

    def matches(self, reason: Reason | None) -> bool:
        return reason is not None and self.key in (reason.slug, reason.category)


def validate_routes(value: Any) -> list[str]:
    """Problems with a ``FEEDBACK_ROUTES`` value, as readable strings (empty when fine)."""
    if not isinstance(value, dict):
        return ["not a dict of reason slug or category -> route"]
    problems: list[str] = []
    for key, route in value.items():
        if not isinstance(key, str) or not key:
            problems.append(f"{key!r}: keys are reason slugs or categories")
            continue
        if not isinstance(route, dict):
            problems.append(f"{key!r}: not a dict")
            continue
        unknown = set(route) - _KEYS
        if unknown:
            problems.append(f"{key!r}: unknown keys {sorted(unknown)}")
        to, groups = route.get("to", []), route.get("groups", [])
        if not isinstance(to, (list, tuple)) or not all(
            isinstance(a, str) and "@" in a for a in to
        ):
            problems.append(f"{key!r}: 'to' must be a list of email addresses")
        if not isinstance(groups, (list, tuple)) or not all(
            isinstance(g, str) and g for g in groups
        ):
            problems.append(f"{key!r}: 'groups' must be a list of group names")
        if not to and not groups:
            problems.append(f"{key!r}: name at least one address ('to') or group ('groups')")
        if route.get("mode", "each") not in MODES:
            problems.append(f"{key!r}: 'mode' must be one of {list(MODES)}")
        if route.get("every", "weekly") not in PERIODS:
            problems.append(f"{key!r}: 'every' must be one of {list(PERIODS)}")
    return problems


def all_routes() -> list[Route]:
    """Every configured route (an invalid setting, reported by the checks, routes nothing)."""
    value = app_settings.FEEDBACK_ROUTES or {}
    if validate_routes(value):
        return []
    return [
        Route(
            key=key,
            to=tuple(route.get("to", ())),
            groups=tuple(route.get("groups", ())),
            mode=route.get("mode", "each"),
            every=route.get("every", "weekly"),
        )
        for key, route in value.items()
    ]


def routes_for(reason: Reason | None) -> list[Route]:
    """The routes a case with this reason is heard through (by its slug, then its category)."""
    if reason is None:
        return []
    return [route for route in all_routes() if route.matches(reason)]


def is_routed(reason: Reason | None) -> bool:
    """Whether what a customer says with this reason reaches someone (a route exists)."""
    return bool(routes_for(reason))
