"""Fixtures of the flow's own browser tests: Debian's Chromium through Playwright, a customer's
browser in a chosen time zone, and where screenshots go.

GC_SCREENSHOTS_DIR names a directory to keep the screenshots in; otherwise they go to the test's
temporary directory (still taken).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import browser


@pytest.fixture(scope="session")
def flow_chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def customer_browser(flow_chromium: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """``customer_browser(user, time_zone=..., locale=...)``: a page in a fresh browser context
    signed in as ``user``, whose clock reads ``time_zone``."""
    viewport = {"width": 1100, "height": 900}
    with browser.signed_in_pages(flow_chromium, live_server.url, viewport=viewport) as page_for:

        def make(user: Any, *, time_zone: str = "UTC", locale: str = "en-US") -> Any:
            return page_for(user, locale=locale, timezone_id=time_zone)

        yield make


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where this test's screenshots go."""
    target = Path(os.environ.get("GC_SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
