"""Playwright driving Debian's Chromium against pytest-django's live server, on the example site
(its pages and look are what the README's and the docs' screenshots show).

GC_SCREENSHOTS=1 writes the screenshots into docs/img/ (the README's images); otherwise they go
to a temporary directory, still taken so that layout checks run at both widths.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import require_service

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
DOCS_IMG = Path(__file__).resolve().parents[3] / "docs" / "img"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    require_service("chromium", os.path.exists(CHROMIUM), CHROMIUM)
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
def new_page(chromium: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context: ``new_page(user=None, locale="en-GB", viewport=DESKTOP)``."""
    contexts: list[Any] = []

    def make(user: Any = None, *, locale: str = "en-GB", viewport: dict | None = None) -> Any:
        context = chromium.new_context(locale=locale, viewport=viewport or DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        if user is not None:
            from django.test import Client

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
def shoot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Screenshot the page at desktop and mobile width; check nothing overflows sideways."""
    target = DOCS_IMG if os.environ.get("GC_SCREENSHOTS") == "1" else tmp_path

    def take(page: Any, name: str) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        for label, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
            page.set_viewport_size(viewport)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} overflows sideways by {overflow}px at {label} width"
            page.screenshot(path=str(target / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        return target

    return take


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a test saves its screenshots: docs/img/ with GC_SCREENSHOTS=1, else a temporary
    directory."""
    if os.environ.get("GC_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        return DOCS_IMG
    return tmp_path
