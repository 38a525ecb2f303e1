"""Settings of the example subscription site.

Environment: DATABASE_URL (default SQLite next to this file), CELERY_BROKER_URL (default the local
Redis), DEMO=1 (Celery eager, console email, short follow-up delays), DJANGO_DEBUG, DJANGO_SECRET_KEY.
"""

import os
from pathlib import Path

import dj_database_url
import django
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO = os.environ.get("DEMO") == "1"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-not-secret-" + "x" * 32)
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

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
    "shop",
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

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=0
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = []

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("de", _("German")), ("fr", _("French"))]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "shop:account"
LOGOUT_REDIRECT_URL = "shop:home"

_EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if django.VERSION >= (6, 1):
    # Django 6.1 replaced EMAIL_BACKEND with MAILERS; anymail's backends work in either.
    MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
else:
    EMAIL_BACKEND = _EMAIL_BACKEND
DEFAULT_FROM_EMAIL = "Example Streaming <hello@example.com>"
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get(
        "MAILGUN_WEBHOOK_SIGNING_KEY", "demo-mailgun-key"
    ),
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "demo:webhook-secret"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_ALWAYS_EAGER = DEMO or os.environ.get("CELERY_TASK_ALWAYS_EAGER") == "1"
CELERY_TASK_EAGER_PROPAGATES = True

GRACEFUL_CANCEL = {
    "SUBSCRIPTION_MODEL": "shop.Subscription",
    "SUBSCRIPTION_FIELDS": {
        "started_at": "started_at",
        "cancel_at_period_end": "cancel_at_period_end",
        "canceled_at": "canceled_at",
        "paused_until": "paused_until",
        # Where the customer is billed decides which law's flow they get (docs/compliance.md).
        "country": "billing_country",
        "region": "billing_region",
    },
    "SITE_NAME": "Example Streaming",
    # The flow's pages extend the site's own base template and link back to the account page.
    "BASE_TEMPLATE": "shop/base.html",
    "ACCOUNT_URL": "shop:account",
    # Links in follow-ups (unsubscribe, survey, reactivate) point here.
    "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
    # Offers the subscription backend does not apply itself are tasks for the shop's staff
    # (admin > Offers to apply); on Stripe, discounts and free features are applied there.
    "OFFER_FULFILMENT": {"discount": "staff", "free_feature": "staff", "consultation": "staff"},
}
if DEMO:
    # The demo plays the whole follow-up sequence (30 days) in 15 seconds, day or night: run
    # `make demo-followups` next to `make demo` and watch the console (docs/followups.md).
    GRACEFUL_CANCEL.update({"FOLLOWUP_SECONDS_PER_DAY": 0.5, "FOLLOWUP_QUIET_HOURS": None})

# GRACEFUL_CANCEL_BACKEND=stripe runs the whole flow on Stripe instead of shop.Subscription:
# against localstripe by default (start it with `make stripe-server` or `localstripe --port
# 8420`, then seed it with `manage.py seed_stripe`). See docs/stripe.md.
if os.environ.get("GRACEFUL_CANCEL_BACKEND") == "stripe":
    GRACEFUL_CANCEL.update(
        {
            "SUBSCRIPTION_BACKEND": "django_graceful_cancel.backends.stripe.StripeSubscriptionBackend",
            "STRIPE_API_KEY": os.environ.get("STRIPE_API_KEY", "sk_test_localstripe_demo"),
            "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:8420") or None,
            # localstripe rejects proration_behavior on updates; Stripe itself gets "none".
            "STRIPE_EXTENSION_PRORATION_BEHAVIOR": (
                None if os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:8420") else "none"
            ),
            # localstripe also rejects cancellation_details; Stripe itself gets the reason.
            "STRIPE_SEND_CANCELLATION_DETAILS": not os.environ.get(
                "STRIPE_API_BASE", "http://127.0.0.1:8420"
            ),
            "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_demo"),
            # The demo finds each user's Stripe customer by email (shop/billing.py).
            "STRIPE_CUSTOMER_LOOKUP": "shop.billing.stripe_customer_id",
            # shop.Plan codes -> the plans seed_stripe creates.
            "STRIPE_PRICES": {
                "basic": "basic-monthly",
                "standard": "standard-monthly",
                "premium": "premium-monthly",
            },
            "STRIPE_FEATURE_PRICES": {"premium-support": "premium-support-monthly"},
        }
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_graceful_cancel": {"handlers": ["console"], "level": "INFO"}},
}
