"""Settings of the test suite's own small host project: tests/urls.py, the Celery app in
tests/celery_app.py and the host app tests/testapp (the subscription models, a base template,
an account page). Nothing here comes from the example site, which has its own smoke tests.

DATABASE_URL switches the database (PostgreSQL in CI's second pass); the default is SQLite in
memory.
"""

import os

import dj_database_url
import django

SECRET_KEY = "tests-only-secret-key-" + "y" * 40
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "anymail",
    "django_graceful_cancel",
    "tests.testapp",
    # Three more host sites, each with its own subscription shape (tests/hosts/).
    "tests.hosts.magazine",
    "tests.hosts.gym",
    "tests.hosts.saas",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.config(conn_max_age=0)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Spanish"), ("de", "German"), ("fr", "French")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
LOGIN_URL = "login"

# pytest-django swaps in the locmem backend; tests switch it with the email_backend fixture.
if django.VERSION >= (6, 1):
    # Django 6.1 replaced EMAIL_BACKEND with MAILERS; anymail's backends work in either.
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "Test Streaming <hello@example.com>"
# anymail's tracking webhooks: tests sign their payloads with these (tests/test_tracking.py).
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": "test-mailgun-key",
    "WEBHOOK_SECRET": "test:webhook-secret",
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
}

# Unit tests only publish, to memory (tests/conftest.py); real workers get their broker from the
# environment (tests/settings_followup_worker.py).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True

GRACEFUL_CANCEL = {
    "SUBSCRIPTION_MODEL": "testapp.Subscription",
    "SUBSCRIPTION_FIELDS": {
        "started_at": "started_at",
        "cancel_at_period_end": "cancel_at_period_end",
        "canceled_at": "canceled_at",
        "paused_until": "paused_until",
    },
    "SITE_NAME": "Test Streaming",
    # The flow's pages extend the host's base template and link back to its account page.
    "BASE_TEMPLATE": "testapp/base.html",
    "ACCOUNT_URL": "testapp:account",
    # Links in follow-ups (unsubscribe, survey, reactivate) point here.
    "SITE_URL": "http://testserver",
    # The model backend applies pauses, extensions and downgrades; the shipped catalogue's other
    # offers become desk tasks for staff, as docs/backends.md tells such a site.
    "OFFER_FULFILMENT": {"discount": "staff", "free_feature": "staff", "consultation": "staff"},
}

LOGGING = {"version": 1, "disable_existing_loggers": False}
