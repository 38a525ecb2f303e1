"""No-login cancellation declarations (the ``eu`` profile's "cancel contracts here" page).

A declaration is what a person sent through the public page, kept as received: the law asks the
site to acknowledge it, with the date and time of receipt, whatever happens next. The service
layer (services/declarations.py) matches it to the account whose own email it gives, cancels at
the period end, waits for the account holder or staff when it would end a subscription at once,
or records it for staff.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import DeclarationStatus, TerminationType
from .cases import CancellationCase, new_reference


def new_token() -> str:
    return secrets.token_urlsafe(24)


class CancellationDeclaration(models.Model):
    reference = models.CharField(
        _("reference"), max_length=32, unique=True, default=new_reference, editable=False
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DeclarationStatus.choices,
        default=DeclarationStatus.RECEIVED,
    )
    # What the person typed, kept verbatim.
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    contract = models.CharField(_("contract"), max_length=300, blank=True)
    termination = models.CharField(
        _("termination"),
        max_length=16,
        choices=TerminationType.choices,
        default=TerminationType.ORDINARY,
    )
    extraordinary_reason = models.TextField(_("reason for extraordinary termination"), blank=True)
    requested_end_date = models.DateField(
        _("requested end date"),
        null=True,
        blank=True,
        help_text=_("Empty means at the earliest possible date."),
    )
    language = models.CharField(_("language"), max_length=16, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)
    # What the app did with it.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("matched customer"),
    )
    case = models.OneToOneField(
        CancellationCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="declaration",
        verbose_name=_("case"),
    )
    staff_note = models.TextField(
        _("why staff must handle it"),
        blank=True,
        help_text=_("Set when not applied automatically."),
    )
    disputed_at = models.DateTimeField(_("disputed"), null=True, blank=True)
    confirmed_at = models.DateTimeField(
        _("confirmed"),
        null=True,
        blank=True,
        help_text=_("When the account holder or staff made a waiting declaration effective."),
    )
    # When the acknowledgement left for ``email`` (None: not sent, e.g. too many to that
    # address); the per-address mail limit counts these.
    acknowledged_at = models.DateTimeField(_("acknowledgement sent"), null=True, blank=True)
    # Secret link keys: the acknowledgement page (the declarant) and "this was not me" (the
    # account holder). Random rather than signed so staff can revoke one by changing it.
    access_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    dispute_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # HMAC of the client address: enough to rate-limit, useless to identify anyone.
    client_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("cancellation declaration")
        verbose_name_plural = _("cancellation declarations")
        indexes = [
            models.Index(fields=["status", "-received_at"], name="gc_declaration_status_idx"),
            models.Index(fields=["email", "received_at"], name="gc_declaration_email_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def acknowledgement_path(self) -> str:
        return _reverse("graceful_cancel:declaration_received", self.access_token)

    @property
    def dispute_path(self) -> str:
        return _reverse("graceful_cancel:declaration_dispute", self.dispute_token)


def _reverse(name: str, token: str) -> str:
    try:
        return reverse(name, args=[token])
    except NoReverseMatch:  # the host did not include django_graceful_cancel.urls
        return ""
