"""The catalogue staff edit: reasons for leaving, retention offers and message templates."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.template import Template, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from ..choices import Channel, OfferKind, ReasonCategory
from .catalogue_memory import CatalogueManager
from .translatable import TranslatableMixin


class Reason(TranslatableMixin):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    category = models.CharField(_("category"), max_length=32, choices=ReasonCategory.choices)
    label = models.CharField(_("label"), max_length=200)
    follow_up_question = models.CharField(_("follow-up question"), max_length=300, blank=True)
    offer_allowed = models.BooleanField(
        _("offer allowed"),
        default=True,
        help_text=_("Untick for reasons where trying to save the customer is wrong."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    # Bulk changes drop the cached catalogue too (models/catalogue_cache.py).
    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("reason")
        verbose_name_plural = _("reasons")

    def __str__(self) -> str:
        return self.label

    @property
    def localized_label(self) -> str:
        return self.localized("label")

    @property
    def localized_follow_up_question(self) -> str:
        return self.localized("follow_up_question")


class RetentionOffer(TranslatableMixin):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OfferKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    parameters = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_(
            'What the offer does, by kind: discount {"percent_off": 30, "duration_months": 3}; '
            'pause {"months": 2}; downgrade {"plan": "basic"}; extension {"days": 30}; '
            'free_feature {"feature": "...", "months": 3}; consultation {}.'
        ),
    )
    reasons = models.ManyToManyField(
        Reason, related_name="offers", blank=True, verbose_name=_("fits reasons")
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("retention offer")
        verbose_name_plural = _("retention offers")

    def __str__(self) -> str:
        return self.title

    @property
    def localized_title(self) -> str:
        return self.localized("title")

    @property
    def localized_description(self) -> str:
        return self.localized("description")


class MessageTemplate(models.Model):
    """Copy staff edit per reason, stage, channel and language; overrides the file templates.

    The lookup order (most specific first) is documented in docs/templates.md.
    """

    reason = models.ForeignKey(
        Reason,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="message_templates",
        help_text=_("Empty for the generic message used when a reason has none of its own."),
    )
    stage = models.SlugField(_("stage"), max_length=32)
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=[("page", _("Web page")), *Channel.choices],
        default="email",
    )
    language = models.CharField(_("language"), max_length=16)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), help_text=_("Django template syntax."))
    html_body = models.TextField(_("HTML"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CatalogueManager()

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["reason", "stage", "channel", "language"],
                name="graceful_cancel_template_unique",
            ),
            models.UniqueConstraint(
                fields=["stage", "channel", "language"],
                condition=models.Q(reason__isnull=True),
                name="graceful_cancel_generic_template_unique",
            ),
        ]

    def __str__(self) -> str:
        reason = self.reason.slug if self.reason is not None else "*"
        return f"{self.stage}/{self.channel}/{self.language}/{reason}"

    def clean(self) -> None:
        """Refuse copy that does not compile: saved, it would break every message it renders."""
        super().clean()
        errors = {}
        for field in ("subject", "body", "html_body"):
            source = getattr(self, field) or ""
            if not source:
                continue
            try:
                Template(source)
            except TemplateSyntaxError as error:
                errors[field] = ValidationError(
                    _("This is not valid Django template syntax: %(error)s"),
                    code="template_syntax",
                    params={"error": error},
                )
        if errors:
            raise ValidationError(errors)
