"""The retained evidence record of a case: what must outlive the purge (docs/compliance.md).

While a case exists its evidence record is built on demand from the case, its timeline, its
offer and its follow-ups (``services.evidence``). This row keeps what cannot be rebuilt later:
the confirmation exactly as it was rendered and sent (templates change), and a snapshot of the
whole record, written when the confirmation is sent and refreshed right before the purge deletes
the case. It is kept until ``retain_until`` and erased with the customer's data on request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import CancellationCase


class EvidenceRecord(models.Model):
    # SET_NULL, not CASCADE: the purge deletes the case, and this row must stay.
    case = models.OneToOneField(
        CancellationCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence_record",
        verbose_name=_("case"),
    )
    #: The case's reference and start, copied so the record is found and filtered without it.
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    case_started_at = models.DateTimeField(_("case started"))
    # Kept to erase the record on the customer's request once the case itself is gone.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    #: The confirmation as sent: stage, channel, subject, text, source, sent_at.
    confirmation = models.JSONField(_("confirmation as sent"), default=dict, blank=True)
    #: The whole record (services.evidence.build_records) as of ``snapshot_at``.
    snapshot = models.JSONField(_("snapshot"), default=dict, blank=True)
    snapshot_at = models.DateTimeField(_("snapshot taken"), null=True, blank=True)
    retain_until = models.DateTimeField(_("kept until"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("evidence record")
        verbose_name_plural = _("evidence records")
        ordering = ["-case_started_at"]
        indexes = [
            # The purge's "past retention" sweep and the export command's date range.
            models.Index(fields=["retain_until"], name="gc_evidence_retain_idx"),
            models.Index(fields=["case_started_at"], name="gc_evidence_started_idx"),
        ]

    def __str__(self) -> str:
        return self.reference
