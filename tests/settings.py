"""Test settings: the example site plus test-only host models.

DATABASE_URL switches the database (PostgreSQL on CI); the default is SQLite in memory.
"""

import os

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405

if not os.environ.get("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
SECRET_KEY = "tests-only-secret-key-" + "y" * 40
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
