"""Helpers shared by the test modules (not collected: nothing here starts with ``test_``).

Fixtures live in conftest.py files only; test modules import helpers from this package and
never from each other or from a conftest. Submodules: ``backends`` (stand-in subscription
backends), ``stripe`` (localstripe and a recording Stripe client), ``workers`` (real Celery
workers and their mail backend), ``reliability`` (fault-injecting stand-ins), ``http`` (a
local HTTP endpoint for webhook and Slack tests).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

ON_CI = os.environ.get("CI", "").lower() in ("true", "1")


def gc_settings(**overrides: Any) -> dict[str, Any]:
    """The test settings' GRACEFUL_CANCEL with some keys replaced, for override_settings."""
    from django.conf import settings

    return {**settings.GRACEFUL_CANCEL, **overrides}


def flow_settings(**overrides: Any) -> dict[str, Any]:
    """``gc_settings`` with confirmations sent in-process right after commit, so they land in
    mail.outbox."""
    from django_graceful_cancel.conf import DEFAULTS

    if "FOLLOWUP_DISPATCH" in DEFAULTS:
        overrides.setdefault("FOLLOWUP_DISPATCH", "inline")
    return gc_settings(**overrides)


def require_service(name: str, available: bool, why: str = "") -> None:
    """Skip locally, fail on CI, when a real service a test needs is not there."""
    import pytest

    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if ON_CI:
        pytest.fail(message + " (CI must run this test)")
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_concurrently(count: int, action: Callable[[], Any]) -> tuple[int, int, list[BaseException]]:
    """Run ``action`` in ``count`` threads released at once, each on its own database
    connection; returns (succeeded, refused with InvalidTransition, other errors)."""
    from django.db import connection

    from django_graceful_cancel.exceptions import InvalidTransition

    barrier = threading.Barrier(count)
    ok, refused, errors = [0], [0], []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            action()
            with lock:
                ok[0] += 1
        except InvalidTransition:
            with lock:
                refused[0] += 1
        except BaseException as exc:  # noqa: BLE001 - surfaced by the caller's assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ok[0], refused[0], errors
