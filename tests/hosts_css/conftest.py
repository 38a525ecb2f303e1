"""The flow inside four host sites' base templates, in Debian's Chromium through Playwright.

Each host is a base template with real CSS (vendored under ``static/hosts_css/``, MIT): Bootstrap
3.4.1 (root font 10px), Bootstrap 5.3, Tailwind 3's preflight reset, and no CSS at all. Two of them
name their blocks differently and are used through an adapter template, as a site would write it
(docs/templates.md shows the Bootstrap 5 one). Everything these tests need is here, so the
directory stands on its own.

GC_SCREENSHOTS=1 writes the screenshots into docs/img/hosts/; otherwise they go to a temporary
directory (still taken, so that the overflow checks run at both widths).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hosts_css.hosts import HOSTS, ROOT, STATIC_DIR, TEMPLATES_DIR
from tests.support import browser
from tests.support.browser import DESKTOP, MOBILE

DOCS_IMG_HOSTS = ROOT / "docs" / "img" / "hosts"

# Whether the flow's heading shows: nothing of the host's (a fixed navbar) is drawn over it.
HEADING_UNCOVERED = """() => {
  const h1 = document.querySelector('.gc h1'), r = h1.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
  return r.top >= 0 && !!hit && h1.contains(hit);
}"""


@pytest.fixture(scope="session")
def hosts_chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def use_host(settings: Any) -> Callable[[str], None]:
    """Make the flow's pages extend host ``name``'s base template (see HOSTS)."""

    def use(name: str) -> None:
        templates = copy.deepcopy(settings.TEMPLATES)
        templates[0]["DIRS"] = [TEMPLATES_DIR, *templates[0].get("DIRS", [])]
        settings.TEMPLATES = templates
        settings.STATICFILES_DIRS = [*getattr(settings, "STATICFILES_DIRS", []), STATIC_DIR]
        overrides: dict[str, Any] = {"BASE_TEMPLATE": HOSTS[name]}
        # Confirmations sent in-process, so the flow needs no Celery broker.
        from django_graceful_cancel import conf

        if "FOLLOWUP_DISPATCH" in getattr(conf, "DEFAULTS", {}):
            overrides["FOLLOWUP_DISPATCH"] = "inline"
        settings.GRACEFUL_CANCEL = {**settings.GRACEFUL_CANCEL, **overrides}

    return use


@pytest.fixture
def host_customer(customer: Any, catalogue: Any) -> Any:
    """The suite's customer (tests/conftest.py) with the shipped reason catalogue loaded."""
    return customer


@pytest.fixture
def signed_in_page(hosts_chromium: Any, live_server: Any) -> Iterator[Callable[[Any], Any]]:
    """``signed_in_page(user)``: a page in a fresh browser context with the user's session."""
    with browser.signed_in_pages(
        hosts_chromium, live_server.url, locale="en-GB", viewport=DESKTOP
    ) as make:
        yield make


@pytest.fixture
def host_shots(tmp_path: Path) -> Callable[[Any, str], None]:
    """Screenshot the page at 1280 and 390 wide (``<name>-desktop.png``, ``<name>-mobile.png``)."""
    target = DOCS_IMG_HOSTS if os.environ.get("GC_SCREENSHOTS") == "1" else tmp_path

    def take(page: Any, name: str) -> None:
        target.mkdir(parents=True, exist_ok=True)
        for label, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
            page.set_viewport_size(viewport)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} overflows sideways by {overflow}px at {label} width"
            page.evaluate("window.scrollTo(0, 0)")
            assert page.evaluate(HEADING_UNCOVERED), f"{name}: the h1 is hidden at {label} width"
            page.screenshot(path=str(target / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    return take
