"""A reason's follow-up questions (staff edit them in the catalogue) and each case's answers.

A question belongs to one reason and has a stable ``key`` (exports, the API and the figures use
it, so a reworded prompt keeps its history). Its prompt and, for a single choice, the labels of
its choices carry their translations in ``translations`` like the reason's label:
``{"es": {"prompt": "...", "choices": {"too-expensive": "..."}}}``. The rules an answer must
follow are the service's (services/questions.py); the model only keeps what a row can check
alone.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_slug
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..choices import QuestionKind
from .cases import CancellationCase
from .catalogue import Reason
from .catalogue_cache import CatalogueManager, cached, invalidate
from .translatable import TranslatableMixin

#: Highest score of a "how likely are you to come back" question (0 to 10).
LIKELIHOOD_MAX = 10
#: Longest answer a short-text question may allow; staff choose up to this.
TEXT_MAX_LENGTH = 1000
#: Longest key of a question or of one of its choices.
KEY_MAX_LENGTH = 64


class ReasonQuestion(TranslatableMixin):
    """One optional follow-up question asked after the customer chose ``reason``."""

    reason = models.ForeignKey(
        Reason,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("reason"),
    )
    key = models.SlugField(
        _("key"),
        max_length=KEY_MAX_LENGTH,
        help_text=_("Stable name used by exports, the API and the figures. Do not reuse it."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind.choices)
    prompt = models.CharField(_("question"), max_length=300)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_(
            'Single choice only: a list of {"key": "...", "label": "..."}. Translate the labels '
            'in translations: {"es": {"prompt": "...", "choices": {"key": "..."}}}.'
        ),
    )
    max_length = models.PositiveSmallIntegerField(
        _("longest answer"),
        default=300,
        validators=[MinValueValidator(1), MaxValueValidator(TEXT_MAX_LENGTH)],
        help_text=_("Short text only: the most characters an answer may have."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    # Bulk changes drop the cached questions too (models/catalogue_cache.py).
    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("follow-up question")
        verbose_name_plural = _("follow-up questions")
        constraints = [
            models.UniqueConstraint(
                fields=["reason", "key"], name="graceful_cancel_question_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.prompt

    @property
    def localized_prompt(self) -> str:
        return self.localized("prompt")

    def choice_keys(self) -> list[str]:
        return [str(item.get("key", "")) for item in self.choices or [] if isinstance(item, dict)]

    def localized_choices(self, language: str | None = None) -> list[tuple[str, str]]:
        """``(key, label)`` of each choice, labels in ``language`` (the active one by default)
        where ``translations`` has them, else the default label."""
        labels: dict[str, Any] = {}
        code = (language or get_language() or "").lower()
        for candidate in (code, code.split("-")[0]):
            found = (self.translations or {}).get(candidate, {}).get("choices")
            if isinstance(found, dict):
                labels = found
                break
        return [
            (str(item["key"]), str(labels.get(item["key"]) or item.get("label") or item["key"]))
            for item in self.choices or []
            if isinstance(item, dict) and item.get("key")
        ]

    def clean(self) -> None:
        """Refuse a question that could not be asked: a single choice needs choices, each with a
        key (unique) and a label; only a single choice has choices."""
        super().clean()
        if self.kind != QuestionKind.CHOICE:
            if self.choices:
                raise ValidationError(
                    {"choices": _("Only a single-choice question has choices.")},
                    code="choices_not_allowed",
                )
            return
        items = self.choices
        if not isinstance(items, list) or not items:
            raise ValidationError(
                {"choices": _("A single-choice question needs at least one choice.")},
                code="choices_required",
            )
        seen: set[str] = set()
        for item in items:
            key = item.get("key") if isinstance(item, dict) else None
            label = item.get("label") if isinstance(item, dict) else None
            try:
                validate_slug(key or "")
            except ValidationError:
                key = None
            if (
                not key
                or not label
                or not isinstance(label, str)
                or key in seen
                or len(key) > KEY_MAX_LENGTH
            ):
                raise ValidationError(
                    {
                        "choices": _(
                            'Each choice needs a unique "key" (letters, digits, - or _, at most '
                            '64) and a "label".'
                        )
                    },
                    code="invalid_choice_item",
                )
            seen.add(key)


class QuestionAnswer(models.Model):
    """A case's answer to one follow-up question: one row per question, changed in place.

    ``question_key`` and ``kind`` are copied from the question, so an answer still reads right
    once staff delete the question. Only the value of its kind is set: ``choice`` (a choice's
    key), ``score`` (0 to 10) or ``text``.
    """

    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.CASCADE,
        related_name="question_answers",
        verbose_name=_("case"),
    )
    question = models.ForeignKey(
        ReasonQuestion,
        on_delete=models.SET_NULL,
        null=True,
        related_name="answers",
        verbose_name=_("question"),
    )
    question_key = models.SlugField(_("question key"), max_length=KEY_MAX_LENGTH)
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind.choices)
    choice = models.CharField(_("choice"), max_length=KEY_MAX_LENGTH, blank=True)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MaxValueValidator(LIKELIHOOD_MAX)]
    )
    text = models.TextField(_("text"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["case", "pk"]
        verbose_name = _("follow-up answer")
        verbose_name_plural = _("follow-up answers")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "question"], name="graceful_cancel_answer_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__lte=LIKELIHOOD_MAX),
                name="graceful_cancel_answer_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_key}: {self.value}"

    @property
    def value(self) -> str | int | None:
        """The answer as its kind holds it."""
        if self.kind == QuestionKind.CHOICE:
            return self.choice
        if self.kind == QuestionKind.LIKELIHOOD:
            return self.score
        return self.text


# --- the cached part ------------------------------------------------------------------------


def active_questions(reason_id: int | None) -> list[ReasonQuestion]:
    """The reason's active questions in order, from the cached catalogue: no query per step.

    Loaded once per process with every reason's questions (one query) and dropped whenever a
    question changes (``connect_signals``), like the rest of the catalogue.
    """
    if reason_id is None:
        return []

    def load() -> dict[int, list[ReasonQuestion]]:
        by_reason: dict[int, list[ReasonQuestion]] = {}
        for question in ReasonQuestion.objects.filter(is_active=True).order_by("order", "pk"):
            by_reason.setdefault(question.reason_id, []).append(question)
        return by_reason

    return cached("questions", load).get(reason_id, [])


def connect_signals() -> None:
    """Drop the cached questions whenever one changes (called once, from ``models``)."""
    from django.db.models.signals import post_delete, post_save

    uid = "graceful_cancel_catalogue_ReasonQuestion"
    post_save.connect(invalidate, sender=ReasonQuestion, dispatch_uid=uid + "_save")
    post_delete.connect(invalidate, sender=ReasonQuestion, dispatch_uid=uid + "_delete")
