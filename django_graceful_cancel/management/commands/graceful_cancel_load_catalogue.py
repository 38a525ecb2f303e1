from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from django_graceful_cancel.catalogue.defaults import OFFERS, QUESTIONS, REASONS
from django_graceful_cancel.models import Reason, ReasonQuestion, RetentionOffer

#: The languages whose text a catalogue row of ``catalogue/defaults.py`` may carry.
LANGUAGES = ("es", "de", "fr")


class Command(BaseCommand):
    help = (
        "Load the default reasons and retention offers (English, Spanish, German, French). Safe to "
        "run twice: rows that exist are left as staff edited them, unless --update is given."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--update", action="store_true", help="Overwrite existing rows with the shipped text."
        )

    @transaction.atomic
    def handle(self, *args: Any, update: bool = False, **options: Any) -> None:
        created = updated = 0
        for order, spec in enumerate(REASONS, start=1):
            values = {
                "category": spec["category"],
                "label": spec["label"],
                "follow_up_question": spec.get("follow_up_question", ""),
                "offer_allowed": spec.get("offer_allowed", True),
                "order": order * 10,
                "translations": {code: spec[code] for code in LANGUAGES if code in spec},
            }
            _, was_created = self._upsert(Reason, spec["slug"], values, update)
            created += was_created
            updated += update and not was_created
        for slug, specs in QUESTIONS.items():
            reason = Reason.objects.filter(slug=slug).first()
            if reason is None:  # a site that deleted the reason keeps it deleted
                continue
            for order, spec in enumerate(specs, start=1):
                _, was_created = self._upsert_question(reason, spec, order * 10, update)
                created += was_created
                updated += update and not was_created
        for order, spec in enumerate(OFFERS, start=1):
            values = {
                "kind": spec["kind"],
                "title": spec["title"],
                "description": spec["description"],
                "parameters": spec["parameters"],
                "order": order * 10,
                "translations": {code: spec[code] for code in LANGUAGES if code in spec},
            }
            offer, was_created = self._upsert(RetentionOffer, spec["slug"], values, update)
            if was_created or update:
                offer.reasons.set(Reason.objects.filter(slug__in=spec["reasons"]))
            created += was_created
            updated += update and not was_created
        self.stdout.write(f"Catalogue: {created} created, {updated} updated.")

    def _upsert_question(
        self, reason: Reason, spec: dict[str, Any], order: int, update: bool
    ) -> tuple[ReasonQuestion, bool]:
        """A reason's shipped follow-up question (``catalogue.defaults.QUESTIONS``), by key."""
        values = {
            "kind": spec["kind"],
            "prompt": spec["prompt"],
            "choices": spec.get("choices", []),
            "max_length": spec.get("max_length", 300),
            "order": order,
            "translations": {code: spec[code] for code in LANGUAGES if code in spec},
        }
        manager = ReasonQuestion.objects
        if update:
            return manager.update_or_create(reason=reason, key=spec["key"], defaults=values)
        return manager.get_or_create(reason=reason, key=spec["key"], defaults=values)

    def _upsert(
        self, model: Any, slug: str, values: dict[str, Any], update: bool
    ) -> tuple[Any, bool]:
        if update:
            return model.objects.update_or_create(slug=slug, defaults=values)
        return model.objects.get_or_create(slug=slug, defaults=values)
