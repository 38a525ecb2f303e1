"""Rate limit for the API's write endpoints.

The rate comes from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["graceful_cancel_write"]`` when the
host sets it, else from ``GRACEFUL_CANCEL["API_WRITE_THROTTLE_RATE"]`` (``None`` turns it off).
Both are read per request, so a settings change applies without a restart.

Anonymous requests are counted per client address as ``GRACEFUL_CANCEL["CLIENT_IP"]`` finds it
(client_ip.py), the same address the declaration page's rate limit uses; DRF's own ``NUM_PROXIES``
is not consulted. The counts live in Django's default cache: with several processes, point
``CACHES`` at a shared cache (deploy check ``graceful_cancel.W050``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from ..client_ip import client_ip
from ..conf import app_settings


class WriteRateThrottle(UserRateThrottle):
    """Per user (per IP for anonymous requests), on POST and other unsafe methods only."""

    scope = "graceful_cancel_write"

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        # A DRF rate such as "30/min", or None (the stubs type rates as numbers).
        rate = rates.get(self.scope, app_settings.API_WRITE_THROTTLE_RATE)
        return None if rate is None else str(rate)

    def get_ident(self, request: Any) -> str:
        """The client's address, found the way ``GRACEFUL_CANCEL["CLIENT_IP"]`` says."""
        return client_ip(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
