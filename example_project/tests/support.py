"""Helpers of the example site's smoke tests (fixtures are in conftest.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ON_CI = os.environ.get("CI", "").lower() in ("true", "1")
#: The loopback, in-memory localstripe runner that `make stripe-server` also uses.
LOCALSTRIPE_SERVER = Path(__file__).resolve().parents[2] / "tests" / "localstripe_server.py"
STRIPE_API_KEY = "sk_test_graceful_cancel"


def require_service(name: str, available: bool, why: str = "") -> None:
    """Skip locally, fail on CI, when a real service a test needs is not there."""
    import pytest

    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if ON_CI:
        pytest.fail(message + " (CI must run this test)")
    pytest.skip(message)


def gc_settings(**overrides: Any) -> dict[str, Any]:
    """The example site's GRACEFUL_CANCEL with some keys replaced, for override_settings."""
    from django.conf import settings

    return {**settings.GRACEFUL_CANCEL, **overrides}


def flow_settings(**overrides: Any) -> dict[str, Any]:
    """Confirmations sent in-process right after commit, so they land in mail.outbox."""
    from django_graceful_cancel.conf import DEFAULTS

    if "FOLLOWUP_DISPATCH" in DEFAULTS:
        overrides.setdefault("FOLLOWUP_DISPATCH", "inline")
    return gc_settings(**overrides)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStripe:
    url: str

    def client(self) -> Any:
        import stripe

        return stripe.StripeClient(
            STRIPE_API_KEY, base_addresses={"api": self.url}, max_network_retries=0
        )


@contextmanager
def start_localstripe() -> Iterator[LocalStripe | None]:
    """localstripe on a free loopback port; yields None when it cannot start."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(LOCALSTRIPE_SERVER), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Waiting for the port is not a timed assertion: the tests skip (or fail on CI) if the
        # server never comes up.
        for _ in range(200):
            if process.poll() is not None or port_open("127.0.0.1", port):
                break
            time.sleep(0.05)
        if process.poll() is not None or not port_open("127.0.0.1", port):
            yield None
            return
        yield LocalStripe(url=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
