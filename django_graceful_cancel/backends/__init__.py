"""Subscription backends: how the app reads and changes the host's subscriptions."""

from __future__ import annotations

from .base import BaseSubscriptionBackend, SubscriptionInfo

__all__ = ["BaseSubscriptionBackend", "SubscriptionInfo", "get_backend"]


def get_backend() -> BaseSubscriptionBackend:
    """An instance of the configured ``GRACEFUL_CANCEL["SUBSCRIPTION_BACKEND"]``."""
    from ..conf import app_settings

    return app_settings.SUBSCRIPTION_BACKEND()
