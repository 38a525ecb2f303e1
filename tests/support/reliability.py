"""Fault-injecting stand-ins for the reliability tests: a flaky ESP, a billing provider that is
down, and a mail backend that crashes a real worker mid-batch."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import requests
from anymail.exceptions import AnymailAPIError, AnymailRequestsAPIError
from django.core.mail.backends.base import BaseEmailBackend

from django_graceful_cancel.backends.model import ModelSubscriptionBackend
from django_graceful_cancel.exceptions import BackendError


def esp_error(message: str, status: int, reason: str) -> AnymailAPIError:
    """anymail's API error as its HTTP backends raise it: with the ESP's response attached."""
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response._content = b'{"message": "simulated"}'
    return AnymailRequestsAPIError(message, response=response)


class FlakyESP(BaseEmailBackend):
    """An ESP that answers HTTP 503 to the next ``outage`` sends, then accepts everything.

    ``permanent`` holds addresses the ESP refuses for good (HTTP 400). ``sent`` counts accepted
    sends per follow-up primary key (from the anymail metadata the channel attaches).
    """

    outage = 0
    permanent: set[str] = set()
    sent: Counter[str] = Counter()
    refused = 0
    _lock = threading.Lock()

    @classmethod
    def reset(cls, *, outage: int = 0, permanent: set[str] | None = None) -> None:
        cls.outage, cls.permanent, cls.sent, cls.refused = outage, permanent or set(), Counter(), 0

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            with FlakyESP._lock:
                if set(message.to) & FlakyESP.permanent:
                    FlakyESP.refused += 1
                    raise esp_error("ESP: invalid recipient (HTTP 400)", 400, "Bad Request")
                if FlakyESP.outage > 0:
                    FlakyESP.outage -= 1
                    FlakyESP.refused += 1
                    raise esp_error(
                        "ESP: service unavailable (HTTP 503)", 503, "Service Unavailable"
                    )
                metadata = getattr(message, "metadata", {}) or {}
                FlakyESP.sent[str(metadata.get("followup", "?"))] += 1
        return len(email_messages)


class DownBackend(ModelSubscriptionBackend):
    """The model backend while the billing provider is down for ``cancel``."""

    down = True

    def cancel(self, reference: str, *, at_period_end: bool, case: Any) -> None:
        if DownBackend.down:
            raise BackendError("billing provider timed out", transient=True)
        super().cancel(reference, at_period_end=at_period_end, case=case)


class CrashingRecorder(BaseEmailBackend):
    """For real workers: one line per accepted send ("<follow-up pk> <stage> <pid>") appended to
    ``GC_SENT_LOG``; while the file ``GC_CRASH_MARKER`` exists, the send after the
    ``GC_CRASH_AFTER``-th kills the whole worker (main process and pool children) with SIGKILL,
    before the message is handed over: a machine dying in the middle of a batch.
    """

    def send_messages(self, email_messages: Any) -> int:
        import os
        import signal
        import time

        log = os.environ["GC_SENT_LOG"]
        marker = os.environ.get("GC_CRASH_MARKER", "")
        crash_after = int(os.environ.get("GC_CRASH_AFTER", "0") or 0)
        delay = float(os.environ.get("GC_SEND_DELAY", "0") or 0)
        for message in email_messages:
            if marker and os.path.exists(marker):
                with open(log, "a+") as handle:
                    handle.seek(0)
                    done = sum(1 for _ in handle)
                if done >= crash_after:
                    try:
                        os.unlink(marker)  # exactly one process performs the crash
                    except FileNotFoundError:
                        pass
                    else:
                        os.killpg(os.getpgid(0), signal.SIGKILL)
            if delay:
                time.sleep(delay)
            metadata = getattr(message, "metadata", {}) or {}
            line = f"{metadata.get('followup', '?')} {metadata.get('stage', '?')} {os.getpid()}\n"
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        return len(email_messages)
