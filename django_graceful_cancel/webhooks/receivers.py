"""Signals the outbound outbox listens to; ``AppConfig.ready()`` calls ``connect()``.

* ``customer_erased``: the payloads kept for the erased cases lose their personal data (the
  delivery log keeps what was sent, without who it was about).
"""

from __future__ import annotations

from typing import Any

from .. import signals
from ..models import PrivacyRequest
from . import outbox


def customer_erased(sender: Any, case_ids: Any = (), **kwargs: Any) -> None:
    outbox.redact_cases(case_ids or ())


def connect() -> None:
    """Connect the receivers (connecting twice is harmless)."""
    signals.customer_erased.connect(
        customer_erased,
        sender=PrivacyRequest,
        dispatch_uid="django_graceful_cancel.webhooks.customer_erased",
    )
