"""What the browser tests share: Debian's Chromium through Playwright, and pages signed in as a
user on the live server. The fixtures stay in each directory's conftest; they call these."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}

#: The browser ``chromium()`` started and has not closed yet (at most one).
_running: list[Any] = []


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright: skipped without it locally, failed on CI; the one
    already running in this process when there is one."""
    if not os.path.exists(CHROMIUM):
        message = f"chromium is not available: {CHROMIUM}"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message + " (CI must run this test)")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # themselves (fixtures, assertions) stay synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if _running:
        # Playwright's sync API runs one event loop per thread: fixtures of several directories
        # (one xdist worker may run them all) share the browser already started.
        yield _running[-1]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        _running.append(browser)
        try:
            yield browser
        finally:
            _running.remove(browser)
            browser.close()


def sign_in(context: Any, user: Any, url: str) -> None:
    """Give the browser ``context`` a session of ``user`` on the site at ``url``."""
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": url}])


@contextmanager
def signed_in_pages(browser: Any, url: str, **defaults: Any) -> Iterator[Callable[..., Any]]:
    """``make(user, **options)``: a page in a fresh browser context (``defaults`` updated with
    ``options``, 15-second timeouts) signed in as ``user``; the contexts close on exit."""
    contexts: list[Any] = []

    def make(user: Any, **options: Any) -> Any:
        context = browser.new_context(**{**defaults, **options})
        context.set_default_timeout(15_000)
        contexts.append(context)
        sign_in(context, user, url)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
