"""Fixtures of the example site's smoke tests (helpers are in support.py)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone


@pytest.fixture(autouse=True)
def _fresh_catalogue_cache() -> None:
    """Each test starts without the cached catalogue (the package's models/catalogue_cache.py):
    rows a previous test cached were rolled back with its transaction, which sends no signal."""
    from django_graceful_cancel.models.catalogue_cache import invalidate_local

    invalidate_local()


@pytest.fixture(scope="session")
def localstripe() -> Any:
    """A localstripe server on a free 127.0.0.1 port for the session, or None when it cannot
    start: call ``require_service("localstripe", server is not None)``."""
    from tests.support import start_localstripe

    with start_localstripe() as server:
        yield server


@pytest.fixture
def catalogue(db: Any) -> None:
    call_command("graceful_cancel_load_catalogue", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def alice(db: Any, catalogue: None, django_user_model: Any) -> Any:
    """A customer of the shop on Standard for 400 days, 20 days left in the period (Basic and
    Premium exist too, for the offers that change plans)."""
    from shop.models import Plan, Subscription

    plans = {
        code: Plan.objects.create(code=code, name=name, price=price, currency="EUR")
        for code, name, price in [
            ("basic", "Basic", "7.99"),
            ("standard", "Standard", "12.99"),
            ("premium", "Premium", "19.99"),
        ]
    }
    user = django_user_model.objects.create_user(
        username="alice", email="alice@example.com", password="demo", first_name="Alice"
    )
    now = timezone.now()
    Subscription.objects.create(
        user=user,
        plan=plans["standard"],
        started_at=now - timedelta(days=400),
        current_period_end=now + timedelta(days=20),
    )
    return user


@pytest.fixture
def inline_confirmations(settings: Any) -> None:
    """Confirmations sent in-process right after commit, so they land in mail.outbox."""
    from tests.support import flow_settings

    settings.GRACEFUL_CANCEL = flow_settings()
