"""A mail backend for the real-worker tests: every message a worker sends becomes one line in
the file named by FOLLOWUP_SENT_LOG ("<follow-up pk> <stage> <pid>"). Appends of one short
line are atomic, so four processes writing at once never interleave.

A file ``fail-<address>`` in FOLLOWUP_FAIL_DIR makes the next send to that address raise
anymail's API error once (the file is removed by whichever process sends first: exactly one
failure).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from anymail.exceptions import AnymailRequestsAPIError
from django.core.mail.backends.base import BaseEmailBackend


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        log = os.environ["FOLLOWUP_SENT_LOG"]
        fail_dir = Path(os.environ["FOLLOWUP_FAIL_DIR"])
        for message in email_messages:
            metadata = getattr(message, "metadata", {}) or {}
            followup = metadata.get("followup", "?")
            try:
                (fail_dir / f"fail-{message.to[0]}").unlink()
            except FileNotFoundError:
                pass
            else:
                raise AnymailRequestsAPIError("simulated ESP outage (HTTP 503)", status_code=None)
            line = f"{followup} {metadata.get('stage', '?')} {os.getpid()}\n".encode()
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return len(email_messages)
