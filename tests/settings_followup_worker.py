"""Settings of the real Celery worker the follow-up worker tests start (see
tests/test_celery_worker_followups.py): the test settings, a mail backend that records every
send to a file all worker processes append to, and short retry delays."""

import os

import django

from tests.settings import *  # noqa: F403

_BACKEND = "tests.support.workers.RecordingBackend"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _BACKEND}}
else:
    EMAIL_BACKEND = _BACKEND
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
GRACEFUL_CANCEL = {
    **GRACEFUL_CANCEL,  # noqa: F405
    "FOLLOWUP_QUIET_HOURS": None,
    "FOLLOWUP_MIN_INTERVAL_HOURS": 0,
    "FOLLOWUP_RETRY_BACKOFF_SECONDS": 1,
}
# Durability is not under test here: skipping the WAL flush at each commit keeps 10,000 sends
# quick on a busy machine without changing what the test checks (locks, claims, counts).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
