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

CHROMIUM = "/usr/bin/chromium"

# Playwright's sync API runs an event loop in this thread; the ORM calls the test makes itself
# stay synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def flow_chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = f"chromium is not available: {CHROMIUM}"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message + " (CI must run this test)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def customer_browser(flow_chromium: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """``customer_browser(user, time_zone=..., locale=...)``: a page in a fresh browser context
    signed in as ``user``, whose clock reads ``time_zone``."""
    contexts: list[Any] = []

    def make(user: Any, *, time_zone: str = "UTC", locale: str = "en-US") -> Any:
        from django.test import Client

        context = flow_chromium.new_context(
            locale=locale, timezone_id=time_zone, viewport={"width": 1100, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where this test's screenshots go."""
    target = Path(os.environ.get("GC_SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
