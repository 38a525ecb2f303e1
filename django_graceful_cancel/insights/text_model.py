"""The shipped classifier: TF-IDF over word and character n-grams, and a linear model.

Character n-grams read the four shipped languages (and typos, plurals and compound words) without
a stemmer per language; word n-grams keep the phrases ("too expensive", "zu teuer"). The n-grams
are hashed into a fixed number of columns, so neither training memory nor the stored model grows
with the site's vocabulary; a linear model trained by stochastic gradient descent (logistic loss,
so it gives probabilities) keeps training 10,000 cases to a few seconds (benchmarks/classifier.py).

scikit-learn comes from the ``[insights]`` extra and is imported only when a classifier is
built, so the app works without it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .classifiers import BaseClassifier, Prediction

#: Hashed columns for word 1-2-grams and for character 2-5-grams: the model's fixed size.
WORD_FEATURES = 2**16
CHAR_FEATURES = 2**17


def require_sklearn() -> Any:
    """The ``sklearn`` module, or ImproperlyConfigured saying how to install it."""
    try:
        import sklearn
    except ImportError as error:
        raise ImproperlyConfigured(
            "GRACEFUL_CANCEL['INSIGHTS_CLASSIFIER'] names the scikit-learn classifier, but "
            "scikit-learn is not installed: pip install 'django-graceful-cancel[insights]'."
        ) from error
    return sklearn


class TextClassifier(BaseClassifier):
    """Hashed TF-IDF (word 1-2-grams + character 2-5-grams within words), logistic SGD."""

    def __init__(self) -> None:
        require_sklearn()
        self.pipeline: Any = None

    def build(self) -> Any:
        import numpy
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        from sklearn.linear_model import SGDClassifier
        from sklearn.pipeline import make_pipeline, make_union

        def tfidf(analyzer: str, ngrams: tuple[int, int], columns: int) -> Any:
            hashed = HashingVectorizer(
                analyzer=analyzer,
                ngram_range=ngrams,
                strip_accents="unicode",
                n_features=columns,
                alternate_sign=False,
                norm=None,
                dtype=numpy.float32,
            )
            return make_pipeline(hashed, TfidfTransformer(sublinear_tf=True))

        features = make_union(
            tfidf("word", (1, 2), WORD_FEATURES), tfidf("char_wb", (2, 5), CHAR_FEATURES)
        )
        # Balanced class weights: a site whose staff record one root cause most of the time
        # still gets the rarer ones suggested. A fixed seed and epoch count make a retrain on the
        # same cases give the same model.
        model = SGDClassifier(
            loss="log_loss",
            alpha=1e-4,
            max_iter=10,
            tol=None,
            class_weight="balanced",
            random_state=0,
        )
        return make_pipeline(features, model)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        if len(set(labels)) < 2:
            raise ValueError("Training needs examples of at least two labels.")
        from sklearn.exceptions import ConvergenceWarning

        pipeline = self.build()
        with warnings.catch_warnings():
            # A fixed number of epochs is the point (bounded time); not a problem to report.
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipeline.fit(list(texts), list(labels))
        # Only the columns some training text hashed to have weights: stored sparse, the model
        # is a few hundred kilobytes instead of megabytes.
        pipeline.steps[-1][1].sparsify()
        self.pipeline = pipeline

    def predict(self, texts: Sequence[str], *, choices: Sequence[str]) -> list[Prediction | None]:
        if self.pipeline is None or not texts:
            return [None] * len(texts)
        classes = [str(label) for label in self.pipeline.classes_]
        wanted = set(choices)
        allowed = [i for i, label in enumerate(classes) if label in wanted]
        if not allowed:
            return [None] * len(texts)
        results: list[Prediction | None] = []
        for row in self.pipeline.predict_proba(list(texts)):
            # A label no longer in the catalogue drops out; the rest are renormalised so the
            # confidence still reads as a share of what staff can choose.
            total = float(sum(row[i] for i in allowed)) or 1.0
            best = max(allowed, key=lambda i: row[i])
            results.append(Prediction(classes[best], float(row[best]) / total))
        return results
