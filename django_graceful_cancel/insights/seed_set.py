"""The seed set shipped for the cold start: short customer sentences in en, es, de, fr.

``seed/seed.json`` holds dicts with ``language``, ``text``, ``reason`` (what the customer would
choose) and ``root_cause`` (what staff would record), labelled with the shipped catalogue's
reason slugs. A site that renamed or replaced those reasons trains on its own cases only
(``graceful_cancel_train_classifier --no-seed``). No model is imported here, so the benchmark
reads it without a database.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SEED_FILE = Path(__file__).parent / "seed" / "seed.json"

#: Labels never learnt nor suggested: "other" says nothing staff can act on.
UNLEARNT = frozenset({"other"})


@cache
def seed_examples() -> tuple[dict[str, str], ...]:
    """The shipped seed set, as dicts with ``language``, ``text``, ``reason``, ``root_cause``."""
    with SEED_FILE.open(encoding="utf-8") as handle:
        return tuple(json.load(handle))
