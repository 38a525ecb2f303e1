"""Fixtures of the host-site tests (the sites themselves are in sites.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.hosts.sites import ROOT, SITES, Customer
from tests.support import browser
from tests.support.browser import DESKTOP

#: GC_SCREENSHOTS=1 writes the screenshots here; otherwise they go to a temporary directory.
SCREENSHOTS = ROOT / "docs" / "img" / "hosts-flow"

#: A Monday noon, far from the follow-ups' quiet hours (21:00-08:00 in the customer's zone).
MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def noon(time_machine: Any) -> datetime:
    """The clock starts at MONDAY_NOON and ticks; ``time_machine.shift()`` travels on."""
    time_machine.move_to(MONDAY_NOON, tick=True)
    return MONDAY_NOON


@pytest.fixture
def walk(django_capture_on_commit_callbacks: Any) -> Callable[[Any, str], Customer]:
    """``walk(user, site)``: that user, signed in, walking ``site``'s pages in a client of their
    own (the site must be served: ``sites.serving``)."""

    def make(user: Any, site: str) -> Customer:
        return Customer(Client(), user, SITES[site], django_capture_on_commit_callbacks)

    return make


# --- the browser tests --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (skipped locally without it, failed on CI)."""
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def signed_in_page(chromium: Any, live_server: Any) -> Iterator[Callable[[Any], Any]]:
    """``signed_in_page(user)``: a page in a fresh browser context with the user's session."""
    with browser.signed_in_pages(
        chromium, live_server.url, locale="en-GB", viewport=DESKTOP
    ) as make:
        yield make


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``screenshot(page, name)``: the whole page at 1280px wide, as ``<name>.png``."""
    target = SCREENSHOTS if os.environ.get("GC_SCREENSHOTS") == "1" else tmp_path

    def take(page: Any, name: str) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
