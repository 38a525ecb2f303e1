"""The private classifier's rows (issue 20): its suggestions and the models it trained.

A suggestion is advice to staff, never a change: the case keeps its reason and root cause until
a staff member accepts the suggestion through ``insights.suggestions.accept_suggestion``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import CancellationCase
from .catalogue import Reason


class SuggestionField(models.TextChoices):
    """What a suggestion is about: the stated reason or the root cause."""

    REASON = "reason", _("Stated reason")
    ROOT_CAUSE = "root_cause", _("Root cause")


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for staff")
    ACCEPTED = "accepted", _("Accepted by staff")
    REJECTED = "rejected", _("Rejected by staff")


class Suggestion(models.Model):
    """What the classifier read in a case's free text, waiting for a staff decision."""

    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="suggestions",
        verbose_name=_("case"),
    )
    field = models.CharField(_("suggests the"), max_length=16, choices=SuggestionField.choices)
    # CASCADE: a reason deleted from the catalogue takes its pending advice with it.
    suggested = models.ForeignKey(
        Reason,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("suggestion"),
    )
    confidence = models.FloatField(_("confidence"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.PENDING,
    )
    # Which trained model (TrainedClassifier pk) or classifier made it, for the acceptance rate
    # per model and for audits.
    made_by = models.CharField(_("made by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("suggested"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("classifier suggestion")
        verbose_name_plural = _("classifier suggestions")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="gc_suggestion_status")]
        constraints = [
            # At most one open question per case and field: staff never see two at once.
            models.UniqueConstraint(
                fields=["case", "field"],
                condition=Q(status="pending"),
                name="gc_one_pending_suggestion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.field} -> {self.suggested_id} ({self.confidence:.2f})"


class TrainedClassifier(models.Model):
    """A model the site trained from its own cases and the shipped seed set.

    ``payload`` is the pickled classifier object this app trained itself (never a file from
    elsewhere); the newest row per field is the one in use.
    """

    field = models.CharField(_("predicts the"), max_length=16, choices=SuggestionField.choices)
    classifier = models.CharField(_("classifier"), max_length=200)
    payload = models.BinaryField(_("trained model"))
    labels = models.JSONField(_("labels"), default=list)
    examples = models.PositiveIntegerField(_("examples"), default=0)
    site_examples = models.PositiveIntegerField(_("examples from the site's cases"), default=0)
    seconds = models.FloatField(_("training time (seconds)"), default=0)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)

    class Meta:
        verbose_name = _("trained classifier")
        verbose_name_plural = _("trained classifiers")
        ordering = ["-trained_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.field} #{self.pk} ({self.examples})"
