"""A former customer's way back: the win-back holdout arm of each case, and the return itself.

``WinbackArm`` is drawn once per case, when its follow-ups are planned (``followups.sequences``):
in the holdout the case gets no win-back message, so the win-back rate can be compared with the
rate of customers who came back on their own. It also keeps the one win-back offer the policy
chose for the case's message.

``CaseReturn`` records how a case's customer came back: when, how (a new subscription, a
checkout page, the site's hook), and which message, channel and offer led to it. One per case;
it is written only by ``services.returns``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import Channel, ReturnMethod, ReturnStatus
from .cases import CancellationCase
from .catalogue import RetentionOffer
from .followups import FollowUp


class WinbackArm(models.Model):
    """Whether a case's win-back message is held out, and the offer its message carries."""

    case = models.OneToOneField(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="winback_arm",
        verbose_name=_("case"),
    )
    is_holdout = models.BooleanField(_("held out"), default=False)
    #: ``WINBACK_HOLDOUT_PERCENT`` when the arm was drawn (the setting may change later).
    holdout_percent = models.PositiveSmallIntegerField(_("holdout share (%)"), default=0)
    #: The win-back offer the policy chose when the arm was drawn (None: the message carries none).
    offer = models.ForeignKey(
        RetentionOffer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="winback_arms",
        verbose_name=_("win-back offer"),
    )
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)

    class Meta:
        verbose_name = _("win-back arm")
        verbose_name_plural = _("win-back arms")
        indexes = [
            # The dashboard's lift: arms by holdout, over a date range.
            models.Index(fields=["is_holdout", "assigned_at"], name="gc_winback_arm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} ({'holdout' if self.is_holdout else 'win-back'})"


class CaseReturn(models.Model):
    """A former customer came back (or is on the provider's checkout page on the way)."""

    case = models.OneToOneField(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="case_return",
        verbose_name=_("case"),
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.PENDING
    )
    method = models.CharField(_("how"), max_length=16, choices=ReturnMethod.choices)
    #: Where the link was: "message" (a follow-up) or "receipt" (the receipt page).
    source = models.CharField(_("link in"), max_length=16, blank=True)
    followup = models.ForeignKey(
        FollowUp,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    offer = models.ForeignKey(
        RetentionOffer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name=_("win-back offer"),
    )
    #: What the confirmation page showed, as the customer confirmed it.
    amount = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True)
    offer_amount = models.DecimalField(
        _("first charge with the offer"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    interval = models.CharField(_("billing interval"), max_length=16, blank=True)
    first_charge_at = models.DateTimeField(_("first charge"), null=True, blank=True)
    #: The new subscription's reference, and the checkout session's when one was used.
    subscription_ref = models.CharField(_("new subscription"), max_length=255, blank=True)
    checkout_ref = models.CharField(_("checkout session"), max_length=255, blank=True)
    started_at = models.DateTimeField(_("confirmed"), default=timezone.now)
    returned_at = models.DateTimeField(_("came back"), null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        indexes = [
            models.Index(fields=["status", "returned_at"], name="gc_return_status_idx"),
            models.Index(fields=["checkout_ref"], name="gc_return_checkout_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} ({self.get_status_display()})"
