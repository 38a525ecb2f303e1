"""The site's name and address, as messages and links show them.

Read from ``SITE_NAME`` and ``SITE_URL``, else from ``django.contrib.sites`` when it is installed.
Links in messages that a worker sends have no request to take the host from, so they are built
on ``site_url()``.
"""

from __future__ import annotations

from .conf import app_settings


def site_name() -> str:
    """The site's name in messages: ``SITE_NAME``, else the current ``Site``'s name."""
    if app_settings.SITE_NAME:
        return str(app_settings.SITE_NAME)
    from django.apps import apps

    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site
        from django.core.exceptions import ImproperlyConfigured

        try:
            return Site.objects.get_current().name
        except (Site.DoesNotExist, ImproperlyConfigured):
            pass
    return "our service"


def site_url() -> str:
    if app_settings.SITE_URL:
        return str(app_settings.SITE_URL).rstrip("/")
    from django.apps import apps

    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site

        try:
            return f"https://{Site.objects.get_current().domain}"
        except Exception:  # noqa: BLE001  (no Site row or no table yet: use the fallback)
            pass
    return "http://localhost:8000"


def absolute(path: str) -> str:
    """``path`` on the site's address, for links in messages; an absolute URL (or nothing) is
    returned as it is."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return f"{site_url()}{path}"
