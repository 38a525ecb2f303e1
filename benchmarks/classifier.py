"""The private classifier's benchmark (issue 20): accuracy against a baseline, training cost.

    .venv/bin/python benchmarks/classifier.py [--cases 10000] [--json PATH]

1. Accuracy on the held-out labelled set (tests/data/insights_heldout.json: en, es, de, fr,
   written separately from the seed set) of the shipped classifier trained on the seed set alone
   (the cold start of a new site), per language, against "always the most frequent root cause"
   of the training data; and how many suggestions clear INSIGHTS_MIN_CONFIDENCE, and how many of
   those are right (what staff see).
2. Training on N synthetic cases (default 10,000: seed sentences recombined with words of other
   sentences, so no two texts are the same and each carries noise): wall time, peak Python
   memory (tracemalloc, numpy's arrays included) and the process's peak resident size; the
   stored model's size; predictions per second.

Needs scikit-learn (the [insights] extra). Reads the data files; imports nothing from tests/.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(INSTALLED_APPS=[], USE_TZ=True)
    django.setup()

from django_graceful_cancel.conf import DEFAULTS  # noqa: E402
from django_graceful_cancel.insights.seed_set import UNLEARNT, seed_examples  # noqa: E402
from django_graceful_cancel.insights.text_model import TextClassifier  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "insights_heldout.json"
LANGUAGES = ("en", "es", "de", "fr")
FIELD = "root_cause"


def accuracy() -> dict[str, Any]:
    seed = [row for row in seed_examples() if row[FIELD] not in UNLEARNT]
    classifier = TextClassifier()
    started = time.perf_counter()
    classifier.fit([row["text"] for row in seed], [row[FIELD] for row in seed])
    seconds = time.perf_counter() - started
    labels = sorted({row[FIELD] for row in seed})
    most_frequent = Counter(row[FIELD] for row in seed).most_common(1)[0][0]
    heldout = json.loads(HELDOUT.read_text(encoding="utf-8"))["examples"]
    predictions = classifier.predict([row["text"] for row in heldout], choices=labels)
    threshold = DEFAULTS["INSIGHTS_MIN_CONFIDENCE"]
    result: dict[str, Any] = {
        "trained_on": len(seed),
        "labels": len(labels),
        "baseline_label": most_frequent,
        "seconds": round(seconds, 3),
        "threshold": threshold,
    }
    for language in (*LANGUAGES, "all"):
        pairs = [
            (row, p)
            for row, p in zip(heldout, predictions, strict=True)
            if language in ("all", row["language"])
        ]
        right = sum(p is not None and p.label == row[FIELD] for row, p in pairs)
        base = sum(row[FIELD] == most_frequent for row, _ in pairs)
        shown = [(row, p) for row, p in pairs if p is not None and p.confidence >= threshold]
        shown_right = sum(p is not None and p.label == row[FIELD] for row, p in shown)
        result[language] = {
            "n": len(pairs),
            "accuracy": right / len(pairs),
            "baseline": base / len(pairs),
            "shown": len(shown),
            "shown_precision": shown_right / len(shown) if shown else None,
        }
    return result


def synthetic(n: int, rng: random.Random) -> tuple[list[str], list[str]]:
    seed = [row for row in seed_examples() if row[FIELD] not in UNLEARNT]
    words = [word for row in seed for word in row["text"].split()]
    by_label: dict[str, list[str]] = {}
    for row in seed:
        by_label.setdefault(row[FIELD], []).append(row["text"])
    texts, labels = [], []
    for i in range(n):
        label = rng.choice(sorted(by_label))
        parts = [rng.choice(by_label[label])]
        if rng.random() < 0.4:  # some customers write two sentences
            parts.append(rng.choice(by_label[label]))
        parts.append(" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))))
        texts.append(" ".join(parts) + f" #{i}")
        labels.append(label)
    return texts, labels


def training_cost(n: int) -> dict[str, Any]:
    texts, labels = synthetic(n, random.Random(20))
    # Timed without tracemalloc (which slows Python's allocations several times), then trained
    # again under it for the peak.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    classifier = TextClassifier()
    started = time.perf_counter()
    classifier.fit(texts, labels)
    seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    TextClassifier().fit(texts, labels)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    classifier.predict(texts, choices=sorted(set(labels)))
    predict_seconds = time.perf_counter() - started
    return {
        "cases": n,
        "seconds": round(seconds, 2),
        "peak_python_mb": round(peak / 2**20, 1),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "model_kb": round(len(pickle.dumps(classifier)) / 1024),
        "predictions_per_second": round(n / predict_seconds),
    }


def report(acc: dict[str, Any], cost: dict[str, Any]) -> str:
    lines = [
        "Private classifier (root cause), trained on the seed set only "
        f"({acc['trained_on']} sentences, {acc['labels']} labels, {acc['seconds']} s)",
        f"Baseline: always {acc['baseline_label']!r}, the most frequent root cause in training.",
        "",
        f"{'language':<9}{'n':>4}{'accuracy':>10}{'baseline':>10}{'gain':>8}"
        f"{'shown':>8}{'right when shown':>18}",
    ]
    for language in (*LANGUAGES, "all"):
        row = acc[language]
        precision = row["shown_precision"]
        lines.append(
            f"{language:<9}{row['n']:>4}{row['accuracy']:>10.1%}{row['baseline']:>10.1%}"
            f"{row['accuracy'] - row['baseline']:>+8.1%}{row['shown']:>8}"
            f"{'-' if precision is None else f'{precision:.1%}':>18}"
        )
    lines += [
        f"('shown': suggestions at or above INSIGHTS_MIN_CONFIDENCE = {acc['threshold']})",
        "",
        f"Training on {cost['cases']:,} synthetic cases: {cost['seconds']} s, peak Python "
        f"memory {cost['peak_python_mb']} MB (tracemalloc), process peak RSS "
        f"{cost['peak_rss_mb']} MB (+{cost['rss_growth_mb']} MB during training); stored model "
        f"{cost['model_kb']} kB; {cost['predictions_per_second']:,} predictions/s.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    acc = accuracy()
    cost = training_cost(args.cases)
    print(report(acc, cost))
    if args.json:
        args.json.write_text(json.dumps({"accuracy": acc, "training": cost}, indent=2) + "\n")


if __name__ == "__main__":
    main()
