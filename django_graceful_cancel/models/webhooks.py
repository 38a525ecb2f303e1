"""Outbound webhooks and staff alerts: the endpoints staff configure, and the outbox of deliveries.

A delivery row is written in the same transaction as the change it reports (a rolled-back change
sends nothing) and leaves later, from a worker or the sweep (``webhooks/outbox.py``). The same
table carries staff alerts (``channel`` "slack", "owner_email"...): one outbox, one log.
"""

from __future__ import annotations

import base64
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import DeliveryStatus
from .cases import CancellationCase
from .catalogue_memory import CatalogueManager

#: The prefix of a Standard Webhooks secret; the rest is base64.
SECRET_PREFIX = "whsec_"
#: Random bytes in a new secret (the Standard Webhooks specification asks for 24 to 64).
SECRET_BYTES = 32


def new_webhook_secret() -> str:
    """A new signing secret in the Standard Webhooks format: ``whsec_`` and base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def validate_webhook_secret(value: str) -> None:
    """``whsec_`` followed by base64 of 24 to 64 bytes."""
    raw = value.removeprefix(SECRET_PREFIX)
    try:
        decoded = base64.b64decode(raw, validate=True)
    except ValueError:
        decoded = b""
    if not value.startswith(SECRET_PREFIX) or not 24 <= len(decoded) <= 64:
        raise ValidationError(
            _('A secret is "whsec_" followed by 24 to 64 random bytes in base64.'),
            code="invalid_secret",
        )


class WebhookEndpoint(models.Model):
    """An address that receives signed events (configured by staff in the admin)."""

    url = models.URLField(
        _("URL"),
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("The address events are posted to (https)."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    #: Event type names (webhooks/events.py); an empty list means every event type.
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_("Leave every box empty to receive every event type."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=new_webhook_secret,
        validators=[validate_webhook_secret],
        help_text=_("Give it to the receiver to verify the signatures (Standard Webhooks)."),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("An inactive endpoint gets no new events; its pending ones wait."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Bulk changes drop the cached set of active endpoints too (models/catalogue_cache.py).
    objects = CatalogueManager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to ``event_type``."""
        return not self.event_types or event_type in self.event_types


class OutboundDelivery(models.Model):
    """One event (or staff alert) for one receiver: the outbox row and its delivery log."""

    #: "webhook" for an endpoint; otherwise the name of a staff alert channel ("slack"...).
    channel = models.CharField(_("channel"), max_length=32, default="webhook")
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_deliveries",
        verbose_name=_("case"),
    )
    #: Deliveries of one endpoint with the same key leave in order (``"case:<pk>"``).
    ordering_key = models.CharField(max_length=64, blank=True)
    #: The event's id (the ``webhook-id`` header): the same for every attempt and every endpoint.
    event_id = models.CharField(_("event id"), max_length=64, db_index=True)
    #: A webhook event type ("case.cancelled") or an alert rule ("high_value_cancellation").
    event_type = models.CharField(_("event type"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    due_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("outbound delivery")
        verbose_name_plural = _("outbound deliveries")
        ordering = ["-pk"]
        indexes = [
            # The sweep: due pending rows, oldest first.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending"),
                name="gc_delivery_due_idx",
            ),
            # Stale "sending" rows (a worker died mid-send).
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="gc_delivery_sending_idx",
            ),
            # In order per endpoint and case: is an earlier row of the chain still unsent?
            models.Index(
                fields=["endpoint", "ordering_key", "id"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="gc_delivery_chain_idx",
            ),
            models.Index(fields=["case", "created_at"], name="gc_delivery_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} / {self.channel} ({self.get_status_display()})"
