"""The cancellation case, the offer presented to it, and its append-only timeline."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import (
    CaseStatus,
    Channel,
    ComplianceProfile,
    EffectiveMode,
    EventKind,
    JurisdictionSource,
    OfferOutcome,
    SyncStatus,
)
from .catalogue import Reason, RetentionOffer

# Crockford's base32 without I, L, O, U: unambiguous when read aloud or typed from a receipt.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REFERENCE_LENGTH = 12  # 60 random bits


def new_reference() -> str:
    raw = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(_REFERENCE_LENGTH))
    return f"GC-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class CancellationCase(models.Model):
    reference = models.CharField(
        _("reference"), max_length=32, unique=True, default=new_reference, editable=False
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="cancellation_cases",
        verbose_name=_("customer"),
    )
    # The subscription is referenced through the backend, never by a foreign key, so any host
    # model or billing provider works (a model backend stores "app_label.model:pk", Stripe "sub_…").
    subscription_ref = models.CharField(_("subscription"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    reason = models.ForeignKey(
        Reason,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("stated reason"),
    )
    reason_detail = models.TextField(_("in the customer's words"), blank=True, max_length=5000)
    root_cause = models.ForeignKey(
        Reason,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="root_cause_cases",
        verbose_name=_("root cause"),
    )
    root_cause_detail = models.TextField(_("root cause notes"), blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL
    )
    contact_consent = models.BooleanField(_("consents to follow-ups"), default=False)
    contact_consent_at = models.DateTimeField(null=True, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # The profile the case started under (compliance.py); a site's own profiles are not among
    # the choices, hence the length. Cases from before 0.2 said "default" (now "us").
    compliance_profile = models.CharField(
        _("compliance profile"),
        max_length=32,
        choices=ComplianceProfile.choices,
        default=ComplianceProfile.US,
    )
    # Where the customer was for the law when the case started (jurisdiction.py): "DE",
    # "US-MN"; empty when nothing placed them (the profile is then COMPLIANCE_PROFILE).
    jurisdiction = models.CharField(_("jurisdiction"), max_length=10, blank=True)
    jurisdiction_source = models.CharField(
        _("jurisdiction from"), max_length=16, choices=JurisdictionSource.choices, blank=True
    )
    effective_mode = models.CharField(
        _("takes effect"),
        max_length=16,
        choices=EffectiveMode.choices,
        default=EffectiveMode.PERIOD_END,
    )
    effective_at = models.DateTimeField(_("effective date"), null=True, blank=True)
    # Snapshot of the subscription when the case started: analytics must not change when the
    # host later edits its plans or prices.
    plan = models.CharField(_("plan"), max_length=200, blank=True)
    plan_code = models.CharField(_("plan code"), max_length=100, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    billing_interval = models.CharField(_("billing interval"), max_length=16, blank=True)
    subscription_started_at = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(_("paid until"), null=True, blank=True)
    tenure_days = models.PositiveIntegerField(_("tenure (days)"), null=True, blank=True)
    priority = models.IntegerField(_("priority"), default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_cancellation_cases",
        verbose_name=_("owner"),
    )
    provider_sync = models.CharField(
        _("provider sync"),
        max_length=16,
        choices=SyncStatus.choices,
        default=SyncStatus.NOT_NEEDED,
    )
    provider_sync_attempts = models.PositiveIntegerField(default=0)
    provider_sync_error = models.TextField(blank=True)
    provider_sync_next_at = models.DateTimeField(null=True, blank=True)
    survey_score = models.PositiveSmallIntegerField(_("survey score"), null=True, blank=True)
    survey_comment = models.TextField(_("survey comment"), blank=True, max_length=5000)
    survey_answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    cancelled_at = models.DateTimeField(_("cancellation received"), null=True, blank=True)
    saved_at = models.DateTimeField(_("saved"), null=True, blank=True)
    reactivated_at = models.DateTimeField(_("reactivated"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("cancellation case")
        verbose_name_plural = _("cancellation cases")
        ordering = ["-created_at"]
        constraints = [
            # One open case per subscription: starting again returns it (services.start_case).
            models.UniqueConstraint(
                fields=["subscription_ref"],
                condition=models.Q(status="open"),
                name="graceful_cancel_one_open_case_per_subscription",
            ),
        ]
        indexes = [
            # Customer's own cases, newest first (flow, API list, offer policy).
            models.Index(fields=["customer", "-created_at"], name="gc_case_customer_idx"),
            # Admin queue and dashboard: by status and date, by priority.
            models.Index(fields=["status", "-created_at"], name="gc_case_status_idx"),
            models.Index(fields=["status", "-priority"], name="gc_case_queue_idx"),
            # The admin queue without a status filter: priority first, newest first (issue 6).
            models.Index(fields=["-priority", "-created_at"], name="gc_case_priority_idx"),
            models.Index(fields=["reason", "-created_at"], name="gc_case_reason_idx"),
            models.Index(fields=["owner", "status"], name="gc_case_owner_idx"),
            models.Index(fields=["-created_at"], name="gc_case_created_idx"),
            models.Index(fields=["subscription_ref"], name="gc_case_subscription_idx"),
            # Retry sweep of confirmed cancellations not yet applied by the provider.
            models.Index(
                fields=["provider_sync"],
                condition=models.Q(provider_sync="pending"),
                name="gc_case_sync_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @property
    def can_reactivate(self) -> bool:
        """Reactivation is one click while the cancellation has not taken effect yet."""
        if self.status != CaseStatus.CANCELLED:
            return False
        return self.effective_at is None or self.effective_at > timezone.now()

    def log(self, kind: str, *, actor: Any = None, data: dict[str, Any] | None = None) -> CaseEvent:
        """Append an event to the timeline. Services call this; nothing else should."""
        return CaseEvent.objects.create(
            case=self,
            kind=kind,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=describe_actor(actor),
            data=data or {},
        )


def describe_actor(actor: Any) -> str:
    """How the timeline and the privacy log name an actor: a label, ``staff:<username>``,
    ``customer``, or ``system`` for None."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor[:64]
    if getattr(actor, "is_staff", False):
        return f"staff:{actor.get_username()}"[:64]
    return "customer"


class OfferPresentation(models.Model):
    """The one offer a case was shown, and what the customer did with it."""

    case = models.OneToOneField(
        CancellationCase, on_delete=models.CASCADE, related_name="offer_presentation"
    )
    offer = models.ForeignKey(
        RetentionOffer, on_delete=models.PROTECT, related_name="presentations"
    )
    # Denormalised from the case so the offer policy's "accepted within a year" and "declined
    # before" questions are one indexed query, however many cases exist.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    outcome = models.CharField(
        max_length=16, choices=OfferOutcome.choices, default=OfferOutcome.PRESENTED
    )
    presented_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    applied = models.JSONField(
        default=dict, blank=True, help_text=_("What the subscription backend applied.")
    )

    class Meta:
        verbose_name = _("offer presented")
        verbose_name_plural = _("offers presented")
        indexes = [
            models.Index(
                fields=["customer", "outcome", "decided_at"], name="gc_offer_customer_idx"
            ),
            models.Index(fields=["offer", "outcome"], name="gc_offer_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.offer} ({self.get_outcome_display()})"


class CaseEvent(models.Model):
    """Append-only timeline: rows are written once and never updated."""

    case = models.ForeignKey(CancellationCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=64, default="system")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [
            models.Index(fields=["case", "created_at"], name="gc_event_case_idx"),
            models.Index(fields=["kind", "created_at"], name="gc_event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)
