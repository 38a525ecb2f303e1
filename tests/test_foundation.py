"""Packaging-level promises: migrations in step, the catalogue command.

The example site's demo data command is tested with the example (example_project/tests/)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from django_graceful_cancel.apps import GracefulCancelConfig
from django_graceful_cancel.catalogue.defaults import OFFERS, REASONS
from django_graceful_cancel.models import Reason, RetentionOffer


@pytest.mark.django_db
def test_migrations_are_in_step_with_the_models():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"Missing migrations (exit {exit_.code}):\n{out.getvalue()}")


def test_default_auto_field_is_pinned():
    assert GracefulCancelConfig.default_auto_field == "django.db.models.BigAutoField"


@pytest.mark.django_db
def test_catalogue_loads_english_and_spanish_and_is_safe_to_run_twice():
    call_command("graceful_cancel_load_catalogue", stdout=io.StringIO())
    assert Reason.objects.count() == len(REASONS) >= 12
    assert RetentionOffer.objects.count() == len(OFFERS)
    price = Reason.objects.get(slug="price")
    price.label = "Edited by staff"
    price.save()
    out = io.StringIO()
    call_command("graceful_cancel_load_catalogue", stdout=out)
    assert "0 created" in out.getvalue()
    assert Reason.objects.count() == len(REASONS)
    price.refresh_from_db()
    assert price.label == "Edited by staff"
    for reason in Reason.objects.all():
        assert reason.translations["es"]["label"], reason.slug
        assert reason.localized("label", "es") != reason.label
    assert Reason.objects.get(slug="business-closed").offer_allowed is False
    assert set(RetentionOffer.objects.values_list("kind", flat=True)) == {
        "discount",
        "pause",
        "downgrade",
        "free_feature",
        "extension",
        "consultation",
    }
    call_command("graceful_cancel_load_catalogue", "--update", stdout=io.StringIO())
    price.refresh_from_db()
    assert price.label == REASONS[0]["label"]


@pytest.mark.django_db
def test_localized_label_falls_back_by_language():
    call_command("graceful_cancel_load_catalogue", stdout=io.StringIO())
    price = Reason.objects.get(slug="price")
    assert price.localized("label", "es-MX") == "Cuesta demasiado para lo que recibo"
    assert price.localized("label", "fr-CA") == "Le prix est trop élevé pour ce que je reçois"
    # A language the catalogue does not carry falls back to the row's own label.
    assert price.localized("label", "it") == price.label
