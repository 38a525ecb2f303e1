"""Recurring themes in the customers' words over a date range, with redacted quotes.

With scikit-learn (the ``[insights]`` extra) the texts are factorised (NMF on TF-IDF): each theme
is a handful of words that occur together, and each text belongs to the theme it weighs most on.
Without it, a deterministic fallback groups the texts by their most frequent meaningful word.
Either way the result is the same shape, the dashboard and the report call ``find_themes``, and
nothing leaves the process.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import CancellationCase
from .redaction import redact

#: Words that say nothing about a theme, per shipped language (compared lower-cased).
STOP_WORDS_BY_LANGUAGE = {
    "en": """a about after again all also am an and any anymore are as at be because been but by
        can could did do does don't even for from get got had has have i i'm if in into is it
        it's its just like many me month months more much my no not now of on one only or our
        out really so some still than that the their them then there they thing things this
        three time to too two use used using very was we were what when which will with would
        year years you your yours""",
    "es": """al como con de del el en es esta este esto está ha hay he la las le les lo los me mi
        mis muy más mas no nos o para pero por porque que se sin sobre son su sus también todo
        un una y ya yo""",
    "de": """aber als an auch auf aus bei bin das dass dem den der die ein eine einen es für habe
        haben hat ich ihr im ist kein keine mehr mein meine mich mir mit nach nicht noch nur oder
        schon sehr sie so uns und vom war werden wie wir wird zu zum zur""",
    "fr": """a au aux avec c'est ce cette ça des du elle en est et fait il j'ai je la le les ma
        mais mes mon ne nous on ou par pas plus pour qui que sans suis sur tout très un une
        vous y été""",
}
STOP_WORDS = frozenset(word for words in STOP_WORDS_BY_LANGUAGE.values() for word in words.split())

#: The redaction marks ("[name]"...) are not words of a theme.
MARKS = frozenset({"email", "link", "phone", "number", "name"})

WORD = re.compile(r"[^\W\d_]{3,}(?:'[^\W\d_]+)?", re.UNICODE)


@dataclass
class Theme:
    """One recurring theme: its words, how many texts it holds, and a few quotes."""

    terms: list[str]
    cases: int
    share: float
    quotes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ", ".join(self.terms)


def texts_between(
    start: datetime | None, end: datetime | None, *, limit: int
) -> list[tuple[str, list[str]]]:
    """``(text, names to redact)`` of the cases started in ``[start, end)`` with free text."""
    cases = CancellationCase.objects.exclude(reason_detail="").exclude(
        subscription_ref__startswith="erased:"
    )
    if start is not None:
        cases = cases.filter(created_at__gte=start)
    if end is not None:
        cases = cases.filter(created_at__lt=end)
    rows = cases.order_by("-created_at").values_list(
        "reason_detail",
        "customer__first_name",
        "customer__last_name",
        "customer__username",
        "customer__email",
    )[:limit]
    found = []
    for text, first, last, username, email in rows:
        local = (email or "").split("@")[0]
        found.append((text, [n for n in (first, last, username, local) if n]))
    return found


def find_themes(
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    count: int = 5,
    quotes: int = 3,
    limit: int = 5000,
) -> list[Theme]:
    """Up to ``count`` themes in the free text of the cases started in ``[start, end)``,
    biggest first, each with up to ``quotes`` representative quotes, personal data redacted.

    Reads at most ``limit`` texts (the newest), so a dashboard view stays bounded.
    """
    # Redacted before grouping, so a name or an address never becomes a theme's word either.
    texts = [
        " ".join(redact(text, names).split())
        for text, names in texts_between(start, end, limit=limit)
    ]
    if not texts:
        return []
    try:
        import sklearn  # noqa: F401
    except ImportError:
        groups = keyword_groups(texts, count)
    else:
        groups = factorised_groups(texts, count)
    themes = []
    for terms, members in groups:
        themes.append(
            Theme(
                terms=terms,
                cases=len(members),
                share=len(members) / len(texts),
                quotes=[_shorten(texts[i]) for i in members[:quotes]],
            )
        )
    return sorted(themes, key=lambda theme: -theme.cases)


def _shorten(quote: str, length: int = 200) -> str:
    return quote if len(quote) <= length else quote[: length - 1].rstrip() + "…"


def tokens(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP_WORDS and w not in MARKS]


def factorised_groups(texts: list[str], count: int) -> list[tuple[list[str], list[int]]]:
    """NMF on TF-IDF: ``(top words, member indexes by weight)`` per non-empty theme."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        tokenizer=tokens,
        token_pattern=None,
        lowercase=False,
        min_df=2,
        # A word in most texts ("cancel", the product's name) separates nothing.
        max_df=1.0 if len(texts) < 5 else 0.6,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no word occurs twice: nothing recurs
        return []
    components = min(count, matrix.shape[0], matrix.shape[1])
    if components < 1:
        return []
    model = NMF(n_components=components, init="nndsvda", random_state=0, max_iter=400)
    weights: Any = model.fit_transform(matrix)
    words = vectorizer.get_feature_names_out()
    groups: list[tuple[list[str], list[int]]] = []
    best = weights.argmax(axis=1)
    for k in range(components):
        members = [i for i in range(len(texts)) if best[i] == k and weights[i, k] > 0]
        if not members:
            continue
        members.sort(key=lambda i: -weights[i, k])
        top = model.components_[k].argsort()[::-1][:4]
        groups.append(([str(words[j]) for j in top if model.components_[k][j] > 0], members))
    return groups


def keyword_groups(texts: list[str], count: int) -> list[tuple[list[str], list[int]]]:
    """Without scikit-learn: greedily take the word most of the remaining texts share as a
    theme, with the texts that contain it, then repeat on the rest; a theme is that word and
    the words most often beside it. Deterministic (ties go alphabetically)."""
    tokenised = [set(tokens(text)) for text in texts]
    # Like max_df above: a word in most texts separates nothing.
    ceiling = len(texts) if len(texts) < 5 else 0.6 * len(texts)
    remaining = set(range(len(texts)))
    result: list[tuple[list[str], list[int]]] = []
    while remaining and len(result) < count:
        frequency = Counter(word for i in remaining for word in tokenised[i])
        keys = [w for w, n in frequency.items() if 2 <= n <= ceiling]
        if not keys:
            break
        key = min(keys, key=lambda word: (-frequency[word], word))
        members = sorted(i for i in remaining if key in tokenised[i])
        remaining -= set(members)
        beside = Counter(w for i in members for w in tokenised[i] if w != key)
        extra = [w for w, n in sorted(beside.items(), key=lambda it: (-it[1], it[0])) if n >= 2]
        # Shorter texts first: a quote that is mostly the theme reads best.
        members.sort(key=lambda i: (len(texts[i]), i))
        result.append(([key, *extra[:3]], members))
    return result
