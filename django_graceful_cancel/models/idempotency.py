"""Stored responses of API requests sent with an ``Idempotency-Key`` header."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """The first response to a keyed POST, replayed when the same customer sends the key again.

    Keys are scoped per customer (two customers may pick the same key) and expire after
    ``GRACEFUL_CANCEL["IDEMPOTENCY_KEY_TTL_HOURS"]``. A row without ``status_code`` is a request
    still being processed: a concurrent retry gets a 409 instead of running the action twice.
    """

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    key = models.CharField(_("key"), max_length=255)
    # Method, path and a hash of the body: the same key with a different request is refused.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2000)
    status_code = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "key"], name="graceful_cancel_idempotency_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
