"""Settings of the example site's smoke tests: the site's own settings (config/settings.py),
with a throw-away database and an in-memory Celery broker.

DATABASE_URL switches to PostgreSQL (CI's second pass); the default is a throw-away SQLite file.
"""

import os
import tempfile

from config.settings import *  # noqa: F403

if not os.environ.get("DATABASE_URL"):
    # A throw-away file, not ":memory:": the browser tests' live server answers the web
    # component's parallel requests from several threads, and SQLite's shared in-memory database
    # fails under that ("bad parameter or other API misuse"). pytest-django adds a suffix per
    # xdist worker and deletes the file afterwards.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tempfile.gettempdir(), "gc-example-tests.sqlite3"),
            "TEST": {
                "NAME": os.path.join(
                    tempfile.gettempdir(), f"gc-example-tests-{os.getpid()}.sqlite3"
                )
            },
        }
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECRET_KEY = "example-tests-secret-key-" + "z" * 40
DEBUG = False
# Tests never publish to a real broker (a confirmation is enqueued on commit).
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
