"""The four host sites these tests use (their templates and vendored CSS are in this directory);
imported by the conftest and the test modules alike."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

# Host name -> the template GRACEFUL_CANCEL["BASE_TEMPLATE"] names.
HOSTS = {
    # Bootstrap 3 with its own 10px root font; blocks named as the flow expects.
    "bootstrap3": "hosts_css/bootstrap3/base.html",
    # Bootstrap 5; blocks head_title, head_extra, main: through an adapter.
    "bootstrap5": "hosts_css/bootstrap5/graceful_cancel_base.html",
    # Tailwind's preflight reset; blocks page_title and body, none in <head>: through an adapter.
    "tailwind": "hosts_css/tailwind/graceful_cancel_base.html",
    # No CSS at all, and no block in <head>.
    "nocss": "hosts_css/nocss/base.html",
}
