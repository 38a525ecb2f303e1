"""The test project's Celery app: django-graceful-cancel's tasks are @shared_task and bind to it.

Real workers run it (``celery -A tests.celery_app worker``, tests/support/workers.py); in the
test process it only publishes, to an in-memory broker unless a test says otherwise.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
