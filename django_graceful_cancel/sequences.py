"""Deprecated: moved to ``django_graceful_cancel.followups.sequences``; this path will be removed
in 0.3."""

from django_graceful_cancel.followups.deprecation import moved

__getattr__, __dir__ = moved(__name__, "django_graceful_cancel.followups.sequences")
del moved
