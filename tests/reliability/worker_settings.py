"""Settings of the real Celery workers the reliability tests start: the test settings, the
crash-injecting recording mail backend, no quiet hours or spacing, short retry and a short
"stale sending" timeout so a crashed worker's claimed rows come back within seconds."""

import os

import django

from tests.settings import *  # noqa: F403

_BACKEND = "tests.reliability.support.CrashingRecorder"
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
    "FOLLOWUP_SENDING_TIMEOUT_MINUTES": float(os.environ.get("GC_SENDING_TIMEOUT_MINUTES", "30")),
}
