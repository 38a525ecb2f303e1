from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from django_graceful_cancel.catalogue.defaults import OFFERS, REASONS
from django_graceful_cancel.models import Reason, RetentionOffer


class Command(BaseCommand):
    help = (
        "Load the default reasons and retention offers (English and Spanish). Safe to run twice: "
        "rows that exist are left as staff edited them, unless --update is given."
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
                "translations": {"es": spec["es"]},
            }
            _, was_created = self._upsert(Reason, spec["slug"], values, update)
            created += was_created
            updated += update and not was_created
        for order, spec in enumerate(OFFERS, start=1):
            values = {
                "kind": spec["kind"],
                "title": spec["title"],
                "description": spec["description"],
                "parameters": spec["parameters"],
                "order": order * 10,
                "translations": {"es": spec["es"]},
            }
            offer, was_created = self._upsert(RetentionOffer, spec["slug"], values, update)
            if was_created or update:
                offer.reasons.set(Reason.objects.filter(slug__in=spec["reasons"]))
            created += was_created
            updated += update and not was_created
        self.stdout.write(f"Catalogue: {created} created, {updated} updated.")

    def _upsert(
        self, model: Any, slug: str, values: dict[str, Any], update: bool
    ) -> tuple[Any, bool]:
        if update:
            return model.objects.update_or_create(slug=slug, defaults=values)
        return model.objects.get_or_create(slug=slug, defaults=values)
