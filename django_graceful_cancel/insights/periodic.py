"""The periodic job: retrain from the site's cases, then suggest for the cases waiting."""

from __future__ import annotations

from dataclasses import dataclass

from .classifiers import classifier_class
from .suggestions import suggest
from .training import TrainingRun, train


@dataclass(frozen=True)
class Refresh:
    runs: list[TrainingRun]
    suggested: int


def retrain_and_suggest(*, seed: bool = True, suggest_after: bool = True) -> Refresh | None:
    """Train the configured classifier and write the new suggestions; None while it is off."""
    if classifier_class() is None:
        return None
    runs = train(seed=seed)
    return Refresh(runs, suggest() if suggest_after else 0)
