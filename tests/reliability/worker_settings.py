"""Settings of the real Celery workers the reliability tests start: the follow-up worker settings
(tests/settings_followup_worker.py: no quiet hours or spacing, short retries, the shared broker)
with the crash-injecting recording mail backend and a short "stale sending" timeout, so a crashed
worker's claimed rows come back within seconds.

The inherited ``synchronous_commit=off`` only matters if PostgreSQL itself crashes, which no
reliability test does (they kill Celery workers and Redis)."""

import os

import django

from tests.settings_followup_worker import *  # noqa: F403

_BACKEND = "tests.support.reliability.CrashingRecorder"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _BACKEND}}
else:
    EMAIL_BACKEND = _BACKEND
GRACEFUL_CANCEL = {
    **GRACEFUL_CANCEL,  # noqa: F405
    "FOLLOWUP_SENDING_TIMEOUT_MINUTES": float(os.environ.get("GC_SENDING_TIMEOUT_MINUTES", "30")),
}
