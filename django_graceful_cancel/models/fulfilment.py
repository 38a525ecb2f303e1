"""Desk tasks for staff to apply accepted offers the subscription backend does not apply itself.

Created in the transaction that saves the case (``services.fulfilment``) when the site routes the
offer's kind to staff (``GRACEFUL_CANCEL["OFFER_FULFILMENT"]``; docs/backends.md, "Offers"), and
closed by ``services.mark_fulfilment_done``. Staff work them in the admin (docs/admin.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import FulfilmentStatus
from .cases import CancellationCase, OfferPresentation
from .catalogue import RetentionOffer


class FulfilmentTask(models.Model):
    """An accepted offer a person must apply by ``due_at``; the customer was told so."""

    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="fulfilment_tasks",
        verbose_name=_("case"),
    )
    #: The accepted presentation: one task per accepted offer.
    presentation = models.OneToOneField(
        OfferPresentation,
        on_delete=models.CASCADE,
        related_name="fulfilment_task",
        verbose_name=_("offer accepted"),
    )
    offer = models.ForeignKey(
        RetentionOffer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=FulfilmentStatus.choices,
        default=FulfilmentStatus.OPEN,
    )
    due_at = models.DateTimeField(_("due"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="graceful_cancel_fulfilment_tasks",
        verbose_name=_("owner"),
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    note = models.TextField(_("note"), blank=True, max_length=5000)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("offer to apply")
        verbose_name_plural = _("offers to apply")
        ordering = ["due_at", "pk"]
        indexes = [
            # The desk's queue and the dashboard's open / overdue counts.
            models.Index(fields=["status", "due_at"], name="gc_fulfil_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} / {self.offer} ({self.get_status_display()})"

    @property
    def is_overdue(self) -> bool:
        return self.status == FulfilmentStatus.OPEN and self.due_at < timezone.now()
