"""The interface of a classifier of the customers' words, and the one the site configured.

A site plugs in its own by subclassing ``BaseClassifier`` and naming it in
``GRACEFUL_CANCEL["INSIGHTS_CLASSIFIER"]`` (docs/insights.md, with the privacy trade-off of a
classifier that sends the words to a hosted service).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from django.core.exceptions import ImproperlyConfigured

from ..conf import app_settings


@dataclass(frozen=True)
class Prediction:
    """One text's most likely label (a catalogue reason slug) and how sure the classifier is."""

    label: str
    confidence: float


class BaseClassifier:
    """Reads short free texts and names, for each, one of the labels it is given.

    One instance predicts one thing (the stated reason, or the root cause). ``fit`` learns from
    labelled examples; ``predict`` answers for new texts, choosing among ``choices`` only (the
    active catalogue reasons), with a confidence from 0 to 1.
    """

    #: False for a classifier that learns nothing from the site (a hosted model with a prompt):
    #: training then stores nothing and ``predict`` is called on a fresh instance.
    trainable: ClassVar[bool] = True

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        raise NotImplementedError

    def predict(self, texts: Sequence[str], *, choices: Sequence[str]) -> list[Prediction | None]:
        """One prediction per text, in order; None where the classifier has nothing to say."""
        raise NotImplementedError

    def dumps(self) -> bytes:
        """The trained state, stored in ``TrainedClassifier.payload``."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, data: bytes) -> BaseClassifier:
        """The classifier ``dumps`` stored. Only rows this app wrote are ever read, so the
        pickle comes from the site's own training, never from outside."""
        loaded = pickle.loads(data)
        if not isinstance(loaded, cls):
            raise ImproperlyConfigured(
                f"The stored classifier is a {type(loaded).__qualname__}, not a {cls.__qualname__}:"
                " run graceful_cancel_train_classifier again."
            )
        return loaded


def classifier_class() -> type[BaseClassifier] | None:
    """The class ``INSIGHTS_CLASSIFIER`` names, or None when the classifier is off."""
    configured = app_settings.INSIGHTS_CLASSIFIER
    if configured is None:
        return None
    if not (isinstance(configured, type) and issubclass(configured, BaseClassifier)):
        raise ImproperlyConfigured(
            "GRACEFUL_CANCEL['INSIGHTS_CLASSIFIER'] must name a subclass of "
            "django_graceful_cancel.insights.classifiers.BaseClassifier."
        )
    return configured


def classifier_path(cls: type[BaseClassifier]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
