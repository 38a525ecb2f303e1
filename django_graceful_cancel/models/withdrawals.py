"""Withdrawals sent through the statutory withdrawal function (CRD art. 11a, BGB section 356a,
Code de la consommation L221-21 / D221-5).

A withdrawal is kept as received, with the date and time it reached the site: the law counts the
period by that moment and asks for an acknowledgement that states it. The service layer
(services/withdrawals.py) moves the customer's case to ``withdrawn``, ends the subscription at
once and puts the refund on the desk (``refund_due_at``, ``refunded_at``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import WithdrawalStatus
from .cases import CancellationCase, new_reference

#: Days the trader has to refund every payment received (CRD art. 13(1), BGB section 357(1),
#: Code de la consommation L221-24).
REFUND_DAYS = 14


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Withdrawal(models.Model):
    reference = models.CharField(
        _("reference"), max_length=32, unique=True, default=new_reference, editable=False
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=WithdrawalStatus.choices,
        default=WithdrawalStatus.RECEIVED,
    )
    # What the person gave, kept verbatim: the three things art. 11a(2) lets the page ask.
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email for the acknowledgement"))
    contract = models.CharField(_("contract"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    compliance_profile = models.CharField(_("compliance profile"), max_length=16, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)
    # Whether it came from a signed-in customer (else from the no-login page).
    signed_in = models.BooleanField(_("sent while signed in"), default=False)
    # What the app did with it.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    subscription_ref = models.CharField(_("subscription"), max_length=255, blank=True)
    case = models.OneToOneField(
        CancellationCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="withdrawal",
        verbose_name=_("case"),
    )
    staff_note = models.TextField(
        _("why staff must handle it"),
        blank=True,
        help_text=_("Set when not applied automatically."),
    )
    withdrawn_at = models.DateTimeField(_("subscription ended"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledgement sent"), null=True, blank=True)
    # The refund the withdrawal calls for: every payment received, within 14 days.
    refund_amount = models.DecimalField(
        _("refund amount"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("What the billing backend reported; empty when it does not know."),
    )
    refund_currency = models.CharField(_("currency"), max_length=3, blank=True)
    refunded_at = models.DateTimeField(_("refund done"), null=True, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund done by"),
    )
    refund_note = models.TextField(_("refund note"), blank=True)
    # The acknowledgement page's secret key: random, so staff can revoke it by changing it.
    access_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # HMAC of the client address (no-login page): enough to rate-limit, useless to identify.
    client_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        constraints = [
            # One withdrawal takes effect per subscription: a double submit finds the first.
            models.UniqueConstraint(
                fields=["subscription_ref"],
                condition=models.Q(status="withdrawn"),
                name="gc_one_withdrawal_per_subscription",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="gc_withdrawal_status_idx"),
            models.Index(fields=["email", "received_at"], name="gc_withdrawal_email_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def refund_due_at(self) -> datetime | None:
        """The latest date for the refund: 14 days after the withdrawal reached the site."""
        if self.status != WithdrawalStatus.WITHDRAWN:
            return None
        return self.received_at + timedelta(days=REFUND_DAYS)

    @property
    def refund_open(self) -> bool:
        return self.status == WithdrawalStatus.WITHDRAWN and self.refunded_at is None

    @property
    def acknowledgement_path(self) -> str:
        try:
            return reverse("graceful_cancel:withdrawal_received", args=[self.access_token])
        except NoReverseMatch:  # the host did not include django_graceful_cancel.urls
            return ""
