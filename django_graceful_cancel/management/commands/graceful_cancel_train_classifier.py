"""Retrain the private classifier and write its suggestions (docs/insights.md)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from django_graceful_cancel.insights.periodic import retrain_and_suggest
from django_graceful_cancel.insights.suggestions import acceptance_rate


class Command(BaseCommand):
    help = (
        "Train the classifier named by GRACEFUL_CANCEL['INSIGHTS_CLASSIFIER'] on the site's "
        "cases where staff recorded a root cause (plus the shipped seed set), store it in the "
        "database, and suggest a reason and root cause for the cases with free text. Nothing "
        "is applied to a case: staff accept or reject each suggestion on the desk."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-seed", action="store_true", help="Train on the site's own cases only."
        )
        parser.add_argument(
            "--no-suggest", action="store_true", help="Train only; write no suggestions."
        )

    def handle(self, *args: Any, no_seed: bool = False, no_suggest: bool = False, **o: Any) -> None:
        try:
            done = retrain_and_suggest(seed=not no_seed, suggest_after=not no_suggest)
        except (ImproperlyConfigured, ValueError) as error:
            raise CommandError(str(error)) from error
        if done is None:
            raise CommandError(
                "The classifier is off: set GRACEFUL_CANCEL['INSIGHTS_CLASSIFIER'] "
                "(docs/insights.md)."
            )
        for run in done.runs:
            if run.model is None:
                self.stdout.write(f"{run.field}: nothing to train (the classifier does not learn).")
                continue
            self.stdout.write(
                f"{run.field}: trained on {run.examples} examples ({run.site_examples} from "
                f"this site's cases), {len(run.labels)} labels, in {run.seconds:.1f} s."
            )
        self.stdout.write(f"Wrote {done.suggested} new suggestion(s).")
        rate = acceptance_rate()
        if rate.decided:
            self.stdout.write(
                f"Staff accepted {rate.accepted} of {rate.decided} decided suggestions "
                f"({rate.rate:.0%}); {rate.pending} waiting."
            )
