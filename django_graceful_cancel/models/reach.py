"""Desk tasks to reach, personally, a customer who cancelled and then went dark.

Created by the scan in ``services.reach`` for a case worth it (its priority and its reason) whose
customer answered nothing on any channel; closed by ``services.reach.complete_reach_out`` with
the outcome and the root cause staff found (docs/admin.md, "Customers who went dark").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import Channel, ReachOutOutcome, ReachOutStatus
from .cases import CancellationCase


class ReachOutTask(models.Model):
    """Reach this customer on a channel not tried yet; ``tried`` lists what was already done so
    nobody repeats it."""

    #: One task per case, whatever how often the scan runs.
    case = models.OneToOneField(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="reach_out_task",
        verbose_name=_("case"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReachOutStatus.choices, default=ReachOutStatus.OPEN
    )
    #: The channel to try: one the case's messages have not used yet ("" when all were tried).
    channel = models.CharField(
        _("channel to try"), max_length=16, choices=Channel.choices, blank=True
    )
    #: What was already tried, when the task was made: {"channels": [...], "messages":
    #: [{"stage", "channel", "status", "sent_at"}], "offers": [{"offer", "outcome"}]}.
    tried = models.JSONField(_("already tried"), default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="graceful_cancel_reach_out_tasks",
        verbose_name=_("owner"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=ReachOutOutcome.choices, blank=True
    )
    note = models.TextField(_("what we learnt"), blank=True, max_length=5000)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("customer to reach")
        verbose_name_plural = _("customers to reach")
        ordering = ["status", "-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="gc_reach_queue_idx")]

    def __str__(self) -> str:
        return f"{self.case} ({self.get_status_display()})"
