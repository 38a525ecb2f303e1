"""The retention desk: staff notes, offer experiments, save checks and the privacy request log."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import CancellationCase
from .catalogue import Reason, RetentionOffer
from .catalogue_memory import CatalogueManager


class StaffNote(models.Model):
    """What a staff member found or did, next to the case. Written by ``services.add_note``."""

    case = models.ForeignKey(
        CancellationCase, on_delete=models.CASCADE, related_name="notes", verbose_name=_("case")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(_("note"), max_length=5000)
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("staff note")
        verbose_name_plural = _("staff notes")
        indexes = [models.Index(fields=["case", "created_at"], name="gc_note_case_idx")]

    def __str__(self) -> str:
        return self.body[:60]


class OfferExperiment(models.Model):
    """An A/B test of offers with a holdout: a share of cases gets no offer at all.

    Comparing each variant's retention with the holdout's gives the real lift of the offer, not
    just its acceptance rate (customers who would have stayed anyway also accept discounts).
    """

    name = models.CharField(_("name"), max_length=200)
    reason = models.ForeignKey(
        Reason,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="experiments",
        verbose_name=_("reason"),
        help_text=_("Cases stating this reason take part; empty for every reason allowing offers."),
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"),
        default=10,
        validators=[MaxValueValidator(100)],
        help_text=_("Share of cases that get no offer, to measure what offers really change."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    # Bulk changes drop the cached catalogue too (models/catalogue_cache.py).
    objects = CatalogueManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("offer experiment")
        verbose_name_plural = _("offer experiments")

    def __str__(self) -> str:
        return self.name


class ExperimentVariant(models.Model):
    experiment = models.ForeignKey(
        OfferExperiment, on_delete=models.CASCADE, related_name="variants"
    )
    offer = models.ForeignKey(
        RetentionOffer, on_delete=models.PROTECT, related_name="+", verbose_name=_("offer")
    )
    weight = models.PositiveIntegerField(_("weight"), default=1, validators=[MinValueValidator(1)])

    objects = CatalogueManager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "offer"], name="graceful_cancel_variant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.experiment} · {self.offer}"


class ExperimentAssignment(models.Model):
    """Which arm of which experiment a case fell in (``variant`` is None for the holdout)."""

    case = models.OneToOneField(
        CancellationCase, on_delete=models.CASCADE, related_name="experiment_assignment"
    )
    experiment = models.ForeignKey(
        OfferExperiment, on_delete=models.CASCADE, related_name="assignments"
    )
    variant = models.ForeignKey(
        ExperimentVariant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments",
    )
    is_holdout = models.BooleanField(default=False)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("experiment assignment")
        verbose_name_plural = _("experiment assignments")
        indexes = [models.Index(fields=["experiment", "is_holdout"], name="gc_assignment_arm_idx")]

    def __str__(self) -> str:
        return f"{self.case} → {'holdout' if self.is_holdout else self.variant}"


class SaveCheck(models.Model):
    """Whether a saved customer's subscription was still active N days after the save."""

    case = models.ForeignKey(CancellationCase, on_delete=models.CASCADE, related_name="save_checks")
    days = models.PositiveSmallIntegerField(_("days after the save"))
    still_active = models.BooleanField(_("still active"))
    checked_at = models.DateTimeField(_("checked"), default=timezone.now)

    class Meta:
        ordering = ["case", "days"]
        verbose_name = _("save check")
        verbose_name_plural = _("save checks")
        constraints = [
            models.UniqueConstraint(fields=["case", "days"], name="graceful_cancel_save_check")
        ]

    def __str__(self) -> str:
        return f"{self.case} +{self.days}d: {'active' if self.still_active else 'gone'}"


class PrivacyRequest(models.Model):
    """The record of every export, erasure and purge. Holds no personal data itself."""

    class Kind(models.TextChoices):
        EXPORT = "export", _("Export")
        ERASE = "erase", _("Erasure")
        PURGE = "purge", _("Purge")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    #: The customer's primary key (not their name or email: the log must survive erasure).
    subject = models.CharField(_("customer id"), max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    actor_label = models.CharField(_("actor"), max_length=64, default="system")
    cases = models.PositiveIntegerField(_("cases affected"), default=0)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("done"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} @ {self.created_at:%Y-%m-%d %H:%M}"
