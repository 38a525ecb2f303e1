"""What customers said, delivered to the people a site names for it (``FEEDBACK_ROUTES``).

One row per delivery: a case's answer sent to a route ("each"), or one route's digest of a
period ("digest"). The unique constraints make each delivery happen once, however often the
receiver or the digest command runs (``feedback.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import DeliveryStatus
from .cases import CancellationCase


class FeedbackDelivery(models.Model):
    class Mode(models.TextChoices):
        EACH = "each", _("Each case")
        DIGEST = "digest", _("Digest")

    #: The ``FEEDBACK_ROUTES`` key (a reason slug or category) the delivery went by.
    route = models.CharField(_("route"), max_length=64)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    #: The case whose answer was sent ("each"); None for a digest.
    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feedback_deliveries",
        verbose_name=_("case"),
    )
    #: The digest's period [start, end).
    period_start = models.DateTimeField(_("from"), null=True, blank=True)
    period_end = models.DateTimeField(_("until"), null=True, blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    #: How many cases it covered (1 for "each").
    cases = models.PositiveIntegerField(_("cases"), default=0)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    #: When a sender took it; a row left "sending" long after (its sender died) is retried.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("feedback delivery")
        verbose_name_plural = _("feedback deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["route", "case"],
                condition=models.Q(case__isnull=False),
                name="gc_feedback_once_per_case",
            ),
            models.UniqueConstraint(
                fields=["route", "period_start", "period_end"],
                condition=models.Q(mode="digest"),
                name="gc_feedback_once_per_digest",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="gc_feedback_status_idx")]

    def __str__(self) -> str:
        if self.case_id is not None:
            return f"{self.route} · {self.case}"
        start = f"{self.period_start:%Y-%m-%d}" if self.period_start else "?"
        return f"{self.route} · {start}"
