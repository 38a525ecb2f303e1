"""anymail's test backend, also appending one line per sent message ("<follow-up pk> <pid>") to
the file named by BENCH_SENT_LOG, so sends by several worker processes can be counted."""

from __future__ import annotations

import os
from typing import Any

from anymail.backends.test import EmailBackend


class CountingTestBackend(EmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        sent = super().send_messages(email_messages)
        log = os.environ.get("BENCH_SENT_LOG")
        if log:
            lines = "".join(
                f"{(getattr(m, 'metadata', None) or {}).get('followup', '?')} {os.getpid()}\n"
                for m in email_messages
            )
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, lines.encode())
            finally:
                os.close(fd)
        # anymail's test backend keeps every message in memory (mail.outbox); a long-running
        # worker must not grow with it.
        from django.core import mail

        if hasattr(mail, "outbox"):
            mail.outbox.clear()
        return sent
