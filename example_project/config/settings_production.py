"""Production settings of the example site: every secret from the environment, HTTPS on.

``manage.py check --deploy --fail-level WARNING`` passes with these settings (a reliability test
runs it). Required environment: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS (comma-separated),
DATABASE_URL, CELERY_BROKER_URL. Optional: EMAIL_BACKEND (an anymail backend, e.g.
"anymail.backends.mailgun.EmailBackend"), MAILGUN_API_KEY, MAILGUN_WEBHOOK_SIGNING_KEY,
ANYMAIL_WEBHOOK_SECRET, DJANGO_CSRF_TRUSTED_ORIGINS, SITE_URL, CACHE_URL (a Redis URL; defaults
to CELERY_BROKER_URL), PROXY_COUNT (reverse proxies in front of gunicorn; default 1) and
TRUSTED_PROXIES (their addresses or networks, comma-separated).
"""

import os

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import GRACEFUL_CANCEL


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in env("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip()
    for o in os.environ.get(
        "DJANGO_CSRF_TRUSTED_ORIGINS", ",".join(f"https://{h}" for h in ALLOWED_HOSTS)
    ).split(",")
    if o.strip()
]

DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=60)}

# HTTPS everywhere, behind a proxy that terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# A real ESP through anymail; the console backend of the demo never runs in production.
_EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "anymail.backends.mailgun.EmailBackend")
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
else:
    EMAIL_BACKEND = _EMAIL_BACKEND
ANYMAIL = {
    "MAILGUN_API_KEY": os.environ.get("MAILGUN_API_KEY", ""),
    "MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", ""),
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False

# One cache for every gunicorn worker and machine: the API's throttle counts there (a per-process
# cache would give each worker its own count), and so do the dashboard's figures.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("CACHE_URL") or CELERY_BROKER_URL,
    }
}

GRACEFUL_CANCEL = {
    **GRACEFUL_CANCEL,
    "SITE_URL": os.environ.get("SITE_URL", f"https://{ALLOWED_HOSTS[0]}"),
    "FOLLOWUP_SECONDS_PER_DAY": 86400,
    # The TLS-terminating proxy (see SECURE_PROXY_SSL_HEADER) adds the client's address to
    # X-Forwarded-For: the declaration page's rate limit and the API's throttle key on it, not
    # on the proxy's own address (docs/deployment.md, "The client's address").
    "CLIENT_IP": {
        "proxy_count": int(os.environ.get("PROXY_COUNT", "1")),
        "trusted_proxies": [
            p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()
        ],
    },
}
