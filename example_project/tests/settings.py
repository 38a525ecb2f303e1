"""Settings of the example site's smoke tests: the site's own settings (config/settings.py),
with a throw-away database and an in-memory Celery broker.

DATABASE_URL switches to PostgreSQL (CI's second pass); the default is SQLite in memory.
"""

import os

from config.settings import *  # noqa: F403

if not os.environ.get("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECRET_KEY = "example-tests-secret-key-" + "z" * 40
DEBUG = False
# Tests never publish to a real broker (a confirmation is enqueued on commit).
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
