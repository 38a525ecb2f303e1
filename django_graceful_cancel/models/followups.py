"""The follow-up outbox: every scheduled message is a row, plus opt-outs and staff call tasks.

Rows are created in the same transaction as the state change that causes them (a confirmed
cancellation schedules its whole sequence), so a crash can never lose a message; workers move a
row to "sending" under a lock other workers skip, so two workers never send the same row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import CallTaskStatus, Channel, FollowUpStatus
from .cases import CancellationCase


class FollowUp(models.Model):
    """One message of a case's sequence, due at ``due_at`` on ``channel``."""

    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="followups",
        verbose_name=_("case"),
    )
    # Denormalised from the case: the per-customer daily limit and opt-out checks are then one
    # indexed query each, however many cases the customer has.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    stage = models.SlugField(_("stage"), max_length=32)
    #: Template stage rendered (usually the stage itself).
    template = models.SlugField(_("template"), max_length=32, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.SCHEDULED,
    )
    due_at = models.DateTimeField(_("due"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    #: Where the copy came from (see rendering.RenderedMessage.source).
    source = models.CharField(_("copy source"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at", "pk"]
        constraints = [
            # A sequence is scheduled once per case, whatever retries or double clicks happen.
            models.UniqueConstraint(
                fields=["case", "stage"], name="graceful_cancel_one_followup_per_stage"
            ),
        ]
        indexes = [
            # The sweep: due scheduled rows, oldest first.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="scheduled"),
                name="gc_followup_due_idx",
            ),
            # Stale "sending" rows (a worker died mid-send).
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="gc_followup_sending_idx",
            ),
            # At most one message per customer per day.
            models.Index(fields=["customer", "sent_at"], name="gc_followup_customer_idx"),
            # Tracking events that carry only the provider's message id.
            models.Index(fields=["provider_message_id"], name="gc_followup_message_idx"),
            models.Index(fields=["case", "due_at"], name="gc_followup_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.stage} / {self.channel} ({self.get_status_display()})"


class OptOut(models.Model):
    """The customer asked for no more follow-ups, on one channel or (``channel=""``) on all."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="graceful_cancel_opt_outs",
        verbose_name=_("customer"),
    )
    #: Empty means every channel.
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, blank=True, default=""
    )
    #: "link", "unsubscribe", "bounce", "complaint", "staff", "api" ...
    source = models.CharField(_("source"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("opted out"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel"], name="graceful_cancel_one_opt_out_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.channel or 'all'}"


class DeliveryEvent(models.Model):
    """A tracking event already applied (anymail's ``event_id``), so replays change nothing."""

    followup = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="delivery_events", null=True
    )
    esp_name = models.CharField(max_length=64)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        constraints = [
            models.UniqueConstraint(
                fields=["esp_name", "event_id"], name="graceful_cancel_one_delivery_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.esp_name}:{self.event_id} {self.event_type}"


class CallTask(models.Model):
    """A phone follow-up: staff call the customer with the stage's call script."""

    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="call_tasks",
        verbose_name=_("case"),
    )
    followup = models.OneToOneField(
        FollowUp,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_task",
        verbose_name=_("follow-up"),
    )
    stage = models.SlugField(_("stage"), max_length=32)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    script = models.TextField(_("call script"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CallTaskStatus.choices, default=CallTaskStatus.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="graceful_cancel_call_tasks",
        verbose_name=_("assigned to"),
    )
    outcome = models.TextField(_("outcome"), blank=True)
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("call task")
        verbose_name_plural = _("call tasks")
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="gc_calltask_queue_idx")]

    def __str__(self) -> str:
        return f"{self.case} / {self.stage} ({self.get_status_display()})"
