"""Settings of the real Celery worker the webhook worker test starts
(tests/test_celery_worker_webhooks.py): the test settings with deliveries enqueued on Celery and a
one-second back-off, so an endpoint that fails then recovers is retried within the test."""

import os

from tests.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
GRACEFUL_CANCEL = {
    **GRACEFUL_CANCEL,  # noqa: F405
    "WEBHOOK_DISPATCH": "celery",
    "WEBHOOK_RETRY_BACKOFF_SECONDS": 1,
    "FOLLOWUP_DISPATCH": "sweep",
}
