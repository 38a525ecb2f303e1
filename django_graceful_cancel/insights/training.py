"""Training: the site's own cases where staff recorded a root cause, plus the shipped seed set.

The labels are the site's: a root cause staff set on the desk, and a stated reason the customer
chose themselves (not "other"). The seed set (``seed_set.py``) gives a cold start; the site's own
cases outnumber it quickly. The trained model is stored in the database (``TrainedClassifier``),
so every web process and worker reads the same one without a shared file system.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ..conf import app_settings
from ..models import CancellationCase, TrainedClassifier
from ..models.insights import SuggestionField
from .classifiers import BaseClassifier, classifier_class, classifier_path
from .seed_set import UNLEARNT, seed_examples

#: Trained models kept per field (the newest is used; one older for comparison).
KEEP = 2


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True)
class TrainingRun:
    """What one field's training did (the command prints it)."""

    field: str
    examples: int
    site_examples: int
    labels: list[str]
    seconds: float
    model: TrainedClassifier | None


def site_examples(field: str, *, limit: int | None = None) -> list[Example]:
    """The site's labelled cases with free text, newest first (at most ``limit``).

    Root cause: what staff recorded. Reason: what the customer chose themselves, or a reason
    staff accepted from a suggestion (either way a person said it).
    """
    limit = app_settings.INSIGHTS_MAX_TRAINING_CASES if limit is None else limit
    label = "root_cause__slug" if field == SuggestionField.ROOT_CAUSE else "reason__slug"
    rows = (
        CancellationCase.objects.exclude(reason_detail="")
        .exclude(**{f"{label}__isnull": True})
        .exclude(**{f"{label}__in": sorted(UNLEARNT)})
        .order_by("-created_at")
        .values_list("reason_detail", label)[:limit]
    )
    # .iterator(): a big site's cases stream through instead of being held twice.
    return [Example(text, slug) for text, slug in rows.iterator(chunk_size=2000)]


def training_examples(field: str, *, seed: bool = True) -> tuple[list[Example], int]:
    """The examples for ``field`` and how many came from the site."""
    own = site_examples(field)
    shipped = (
        [Example(row["text"], row[field]) for row in seed_examples() if row[field] not in UNLEARNT]
        if seed
        else []
    )
    return [*own, *shipped], len(own)


def train(
    fields: Iterable[str] = (SuggestionField.REASON, SuggestionField.ROOT_CAUSE),
    *,
    seed: bool = True,
) -> list[TrainingRun]:
    """Train the configured classifier for each field and store it; returns what was done.

    Raises ImproperlyConfigured when ``INSIGHTS_CLASSIFIER`` is off or cannot be built. A
    classifier that learns nothing (``trainable = False``) stores nothing.
    """
    cls = classifier_class()
    if cls is None:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "GRACEFUL_CANCEL['INSIGHTS_CLASSIFIER'] is None: the classifier is off "
            "(docs/insights.md says how to turn it on)."
        )
    runs = []
    for field in fields:
        if not cls.trainable:
            runs.append(TrainingRun(str(field), 0, 0, [], 0.0, None))
            continue
        examples, own = training_examples(str(field), seed=seed)
        started = time.perf_counter()
        classifier = cls()
        classifier.fit([e.text for e in examples], [e.label for e in examples])
        seconds = time.perf_counter() - started
        labels = sorted({e.label for e in examples})
        model = store(str(field), cls, classifier, labels, len(examples), own, seconds)
        runs.append(TrainingRun(str(field), len(examples), own, labels, seconds, model))
    return runs


def store(
    field: str,
    cls: type[BaseClassifier],
    classifier: BaseClassifier,
    labels: list[str],
    examples: int,
    own: int,
    seconds: float,
) -> TrainedClassifier:
    with transaction.atomic():
        model = TrainedClassifier.objects.create(
            field=field,
            classifier=classifier_path(cls),
            payload=classifier.dumps(),
            labels=labels,
            examples=examples,
            site_examples=own,
            seconds=seconds,
        )
        old = TrainedClassifier.objects.filter(field=field).order_by("-trained_at", "-pk")[KEEP:]
        TrainedClassifier.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    return model


def current(field: str) -> tuple[BaseClassifier, str] | None:
    """The classifier to suggest with for ``field`` and a label of where it came from; None
    when the classifier is off, or trainable and not trained yet with the configured class."""
    cls = classifier_class()
    if cls is None:
        return None
    if not cls.trainable:
        return cls(), classifier_path(cls)
    row: Any = (
        TrainedClassifier.objects.filter(field=field, classifier=classifier_path(cls))
        .order_by("-trained_at", "-pk")
        .first()
    )
    if row is None:
        return None
    return cls.loads(bytes(row.payload)), f"{row.classifier}#{row.pk}"
