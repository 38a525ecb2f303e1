"""Customer emails sent directly through Django's mail API.

The confirmation is sent after the cancellation commits, so a mail failure can never undo a
confirmed cancellation. (The follow-up outbox, when enabled, replaces this direct send.)
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from .conf import app_settings
from .models import CancellationCase

logger = logging.getLogger("django_graceful_cancel")


def site_name() -> str:
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


def send_confirmation_email(case_pk: int) -> bool:
    from .rendering import render_message

    """Send the cancellation confirmation; returns whether a message went out."""
    case = CancellationCase.objects.select_related("customer", "reason").get(pk=case_pk)
    email = getattr(case.customer, "email", "") if case.customer_id else ""
    if not email:
        return False
    rendered = render_message(case, "confirmation", channel="email")
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
        to=[email],
    )
    # Anymail-compatible attributes: ignored by Django's own backends, used by ESP backends.
    message.tags = ["graceful-cancel", "confirmation"]  # type: ignore[attr-defined]
    message.metadata = {"case": case.reference, "stage": "confirmation"}  # type: ignore[attr-defined]
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    message.send()
    return True
