"""Benchmark-only settings: the example site on PostgreSQL (DATABASE_URL), served as in
production (DEBUG off), plus the baseline views of benchmarks/baseline.py (benchmarks/urls.py).

Email goes to anymail's test backend wrapped to count sends across processes (support.py);
follow-ups are left to the sweep so the API flow and its hand-written baseline do the same work
(database writes only, no broker publish in the request).
"""

import os

import django
from config.settings import *  # noqa: F403
from config.settings import GRACEFUL_CANCEL, INSTALLED_APPS

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "benchmarks.urls"
INSTALLED_APPS = [*INSTALLED_APPS]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_BACKEND = "benchmarks.support.CountingTestBackend"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _BACKEND}}
else:
    EMAIL_BACKEND = _BACKEND
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/7")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
GRACEFUL_CANCEL = {
    **GRACEFUL_CANCEL,
    "FOLLOWUP_DISPATCH": "sweep",
    "FOLLOWUP_QUIET_HOURS": None,
    "FOLLOWUP_MIN_INTERVAL_HOURS": 0,
    "API_WRITE_THROTTLE_RATE": None,
    "SITE_URL": "https://shop.example.com",
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
