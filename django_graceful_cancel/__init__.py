"""django-graceful-cancel: a respectful cancellation flow for Django subscription sites."""

__version__ = "0.2.0.dev0"
