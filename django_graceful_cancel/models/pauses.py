"""A pause of a subscription, with its life: paused, then resumed early, resumed on schedule, or
cancelled during the pause.

Created in the transaction that accepts a pause offer the subscription backend applied
(``services.pauses.start_pause``); every later change goes through ``services.pauses``
(docs/pause.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import PauseState
from .cases import CancellationCase, OfferPresentation
from .followups import FollowUp


class Pause(models.Model):
    """One pause: it starts when the offer is accepted and ends on ``ends_at`` unless the customer
    resumes early or cancels meanwhile."""

    case = models.ForeignKey(
        CancellationCase, on_delete=models.CASCADE, related_name="pauses", verbose_name=_("case")
    )
    #: The accepted pause offer (None for a pause made at the billing provider).
    presentation = models.OneToOneField(
        OfferPresentation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pause",
        verbose_name=_("offer accepted"),
    )
    # Denormalised from the case: the per-year limit is then one indexed query per customer.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    subscription_ref = models.CharField(_("subscription"), max_length=255)
    state = models.CharField(
        _("state"), max_length=24, choices=PauseState.choices, default=PauseState.PAUSED
    )
    starts_at = models.DateTimeField(_("paused on"), default=timezone.now)
    #: When the subscription resumes by itself (moved by an extension).
    ends_at = models.DateTimeField(_("resumes on"))
    #: Days added by extensions, on top of the days first accepted.
    extended_days = models.PositiveIntegerField(_("days added"), default=0)
    #: When it actually ended (resumed or cancelled); None while paused.
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    #: How the backend paused it ("model", "pause_collection", "native"...).
    via = models.CharField(_("paused by"), max_length=32, blank=True)
    #: The reminder before it resumes (a follow-up row; a new one after each extension).
    reminder = models.ForeignKey(
        FollowUp,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reminder"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["-starts_at", "-pk"]
        constraints = [
            # A subscription is paused once at a time.
            models.UniqueConstraint(
                fields=["subscription_ref"],
                condition=models.Q(state="paused"),
                name="graceful_cancel_one_running_pause",
            ),
        ]
        indexes = [
            # The per-year limit: this customer's pauses since a date.
            models.Index(fields=["customer", "starts_at"], name="gc_pause_customer_idx"),
            # The sweep: running pauses whose end has come.
            models.Index(
                fields=["ends_at"],
                condition=models.Q(state="paused"),
                name="gc_pause_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_state_display()} → {self.ends_at:%Y-%m-%d}"

    @property
    def is_running(self) -> bool:
        return self.state == PauseState.PAUSED

    @property
    def total_days(self) -> int:
        """Days from the start to the scheduled end (what the per-pause limit counts)."""
        return max((self.ends_at - self.starts_at).days, 0)
