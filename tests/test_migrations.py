"""Upgrades keep data: from the app's first migration to the latest, with rows in place.

Written against whatever migrations exist: the test goes back to the first migration, writes
rows through the *historical* models of that state (so it keeps working as models change), runs
every later migration and reads the rows back through today's models. ``makemigrations --check``
lives in tests/test_foundation.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

APP = "graceful_cancel"

pytestmark = pytest.mark.django_db(transaction=True)


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def _app_migrations(executor: MigrationExecutor) -> list[tuple[str, str]]:
    return sorted(key for key in executor.loader.disk_migrations if key[0] == APP)


def _latest(executor: MigrationExecutor) -> list[tuple[str, str]]:
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def migrate_to() -> Iterator[Any]:
    """Migrate to targets; whatever happens, leave every app at its latest migration."""

    def migrate(targets: list[tuple[str, str | None]]) -> Any:
        executor = _executor()
        executor.migrate(targets)
        # A fresh loader: the state after migrating, with the historical models of the target.
        return (
            _executor().loader.project_state([t for t in targets if t[1] is not None] or None).apps
        )

    yield migrate
    executor = _executor()
    executor.migrate(_latest(executor))


def _filler(field: models.Field, counter: int) -> Any:
    """A value for a required field the test does not set (fields added to 0001 later)."""
    if isinstance(field, (models.SlugField, models.CharField, models.TextField)):
        value = f"x{counter}"
        return value[: field.max_length] if field.max_length else value
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, (models.IntegerField, models.FloatField)):
        return 0
    if isinstance(field, models.DecimalField):
        return Decimal(0)
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return dt.date.today()
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    raise AssertionError(f"tests/test_migrations.py: teach _filler about {field!r}")


def create(model: type[models.Model], **values: Any) -> models.Model:
    """Create a row of a historical model, filling required fields the test did not name."""
    for number, field in enumerate(model._meta.concrete_fields):
        if field.name in values or field.attname in values or field.primary_key:
            continue
        if field.null or field.has_default() or getattr(field, "auto_now", False):
            continue
        if getattr(field, "auto_now_add", False) or field.is_relation:
            continue
        values[field.name] = _filler(field, number)
    return model._default_manager.create(**values)


def test_upgrade_from_the_first_migration_keeps_the_data(migrate_to: Any) -> None:
    migrations = _app_migrations(_executor())
    assert migrations, "the app has no migrations"
    first = migrations[0]
    old = migrate_to([first])

    User = old.get_model("auth", "User")
    Reason = old.get_model(APP, "Reason")
    Offer = old.get_model(APP, "RetentionOffer")
    Case = old.get_model(APP, "CancellationCase")
    Presentation = old.get_model(APP, "OfferPresentation")
    Event = old.get_model(APP, "CaseEvent")

    user = User.objects.create(username="upgrader", email="upgrader@example.com")
    price = create(Reason, slug="price", category="price", label="Too expensive")
    offer = create(Offer, slug="discount", kind="discount", title="30% off", parameters={"p": 30})
    offer.reasons.add(price)
    now = timezone.now()
    case = create(
        Case,
        reference="GC-UPGR-ADE0-0001",
        customer=user,
        subscription_ref="testapp.subscription:1",
        status="cancelled",
        reason=price,
        reason_detail="Costs more than Netflix",
        price=Decimal("12.99"),
        cancelled_at=now,
    )
    create(Presentation, case=case, offer=offer, customer=user, outcome="declined", decided_at=now)
    for kind in ("started", "reason_recorded", "offer_presented", "offer_declined", "cancelled"):
        create(Event, case=case, kind=kind, actor_label="customer", data={"k": kind})

    migrate_to(_latest(_executor()))

    from django_graceful_cancel.models import CancellationCase
    from django_graceful_cancel.models import Reason as NewReason

    case = CancellationCase.objects.get(reference="GC-UPGR-ADE0-0001")
    assert case.customer.username == "upgrader"
    assert case.subscription_ref == "testapp.subscription:1"
    assert case.status == "cancelled"
    assert case.reason.slug == "price" and case.reason.label == "Too expensive"
    assert case.reason_detail == "Costs more than Netflix"
    assert case.price == Decimal("12.99")
    assert case.offer_presentation.outcome == "declined"
    assert case.offer_presentation.offer.slug == "discount"
    assert case.offer_presentation.offer.parameters == {"p": 30}
    assert list(NewReason.objects.get(slug="price").offers.values_list("slug", flat=True)) == [
        "discount"
    ]
    assert list(case.events.order_by("pk").values_list("kind", flat=True)) == [
        "started",
        "reason_recorded",
        "offer_presented",
        "offer_declined",
        "cancelled",
    ]


def test_every_migration_can_be_unapplied_and_applied_again(migrate_to: Any) -> None:
    migrate_to([(APP, None)])
    tables = set(connection.introspection.table_names())
    assert not {t for t in tables if t.startswith(f"{APP}_")}, "tables left after unapplying"
    migrate_to(_latest(_executor()))
    tables = set(connection.introspection.table_names())
    assert f"{APP}_cancellationcase" in tables
