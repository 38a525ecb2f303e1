"""Deprecated: moved to ``django_graceful_cancel.followups.outbox``,
``django_graceful_cancel.followups.actions``, ``django_graceful_cancel.followups.respect`` and
``django_graceful_cancel.followups.dispatch``; this path will be removed in 0.3."""

from django_graceful_cancel.followups.deprecation import moved

__getattr__, __dir__ = moved(
    __name__,
    "django_graceful_cancel.followups.outbox",
    "django_graceful_cancel.followups.actions",
    "django_graceful_cancel.followups.respect",
    "django_graceful_cancel.followups.dispatch",
)
del moved
