"""The suite's fixtures (helpers that are not fixtures live in tests/support/).

On CI (CI=true) a missing service fails the test instead of skipping it
(``tests.support.require_service``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from tests.support.workers import CELERY_APP, CeleryWorkerProcess, use_celery_broker

# Hypothesis profiles (the state machine in tests/reliability/). "ci", the default: derandomised,
# so every run of `make test` tries the same examples and a failure reproduces anywhere. "long"
# (`make reliability`: pytest -m reliability --hypothesis-profile=long): randomised and longer, to
# search for new failures; a failure prints the blob that replays it (@reproduce_failure). Neither
# writes an example database into the checkout (database=None), so a failure found once cannot
# make every later run in that checkout fail.
hypothesis_settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=40, stateful_step_count=20
)
hypothesis_settings.register_profile(
    "long",
    derandomize=False,
    database=None,
    deadline=None,
    max_examples=400,
    stateful_step_count=40,
    print_blob=True,
)
hypothesis_settings.load_profile("ci")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only: runs in the PostgreSQL pass"))


@pytest.fixture(autouse=True)
def _fresh_catalogue_cache() -> None:
    """Each test starts without the cached catalogue (models/catalogue_cache.py): the rows a
    previous test cached were rolled back with its transaction, which sends no signal."""
    from django_graceful_cancel.models.catalogue_cache import invalidate_local

    invalidate_local()


@pytest.fixture(scope="session")
def localstripe() -> Any:
    """A localstripe server (stateful fake Stripe) on a free 127.0.0.1 port for the session.

    Yields a ``tests.support.stripe.LocalStripe`` (``.url``, ``.client()``), or None when it
    cannot start: call ``require_service("localstripe", server is not None)``.
    """
    from tests.support.stripe import start_localstripe

    with start_localstripe() as server:
        yield server


@pytest.fixture
def catalogue(db: Any) -> None:
    call_command("graceful_cancel_load_catalogue", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def plans(db: Any) -> dict[str, Any]:
    from tests.testapp.models import Plan

    return {
        code: Plan.objects.create(code=code, name=name, price=price, currency="EUR")
        for code, name, price in [
            ("basic", "Basic", "7.99"),
            ("standard", "Standard", "12.99"),
            ("premium", "Premium", "19.99"),
        ]
    }


@pytest.fixture
def make_customer(db: Any, plans: dict[str, Any], django_user_model: Any) -> Callable[..., Any]:
    from tests.testapp.models import Subscription

    counter = iter(range(1, 10_000))

    def make(
        username: str | None = None,
        *,
        plan: str = "standard",
        tenure_days: int = 400,
        period_days: int = 20,
        subscribed: bool = True,
        **user_fields: Any,
    ) -> Any:
        username = username or f"customer{next(counter)}"
        user = django_user_model.objects.create_user(
            username=username,
            email=f"{username}@example.com",
            password="demo",
            first_name=username.title(),
            **user_fields,
        )
        if subscribed:
            now = timezone.now()
            Subscription.objects.create(
                user=user,
                plan=plans[plan],
                started_at=now - timedelta(days=tenure_days),
                current_period_end=now + timedelta(days=period_days),
            )
        return user

    return make


@pytest.fixture
def customer(make_customer: Callable[..., Any]) -> Any:
    return make_customer("alice")


@pytest.fixture
def staff_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        username="sam", email="sam@example.com", password="staff", is_staff=True
    )


@pytest.fixture
def superuser(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def superuser_client(client: Any, superuser: Any) -> Any:
    """pytest-django's ``client`` logged in as ``superuser`` ("boss"; pytest-django's own
    ``admin_client`` is "admin")."""
    client.force_login(superuser)
    return client


@pytest.fixture
def fresh_dashboard_cache() -> None:
    """The dashboard caches its figures: a module that reads them starts each test without
    (``pytestmark = pytest.mark.usefixtures("fresh_dashboard_cache")``)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def email_backend(settings: Any) -> Callable[[str], None]:
    """Switch the email backend, through MAILERS on Django 6.1+ and EMAIL_BACKEND before."""
    import django

    def use(path: str) -> None:
        if django.VERSION >= (6, 1):
            settings.MAILERS = {"default": {"BACKEND": path}}
        else:
            settings.EMAIL_BACKEND = path

    return use


@pytest.fixture(autouse=True, scope="session")
def _celery_publishes_in_memory() -> Any:
    """Unit tests never publish to a real broker: a confirmed cancellation enqueues its
    confirmation on commit, and without this it would land on the developer's Redis.

    An explicit CELERY_BROKER_URL in the environment wins; tests that start a real worker
    switch with ``use_celery_broker()``.
    """
    if not os.environ.get("CELERY_BROKER_URL"):
        use_celery_broker("memory://")
    yield


@pytest.fixture
def celery_worker_factory(django_db_setup: Any, django_db_blocker: Any, tmp_path: Any) -> Any:
    """Start real Celery workers on the test database (PostgreSQL) and a broker URL.

    ``start(broker, settings="tests.settings_followup_worker", concurrency=2, env={}, queues="")``
    (``queues``: consume only these, so parallel test runs on one Redis DB never share tasks) returns a
    ``CeleryWorkerProcess`` once the worker says it is ready; every worker still running at the
    end of the test is stopped. Each worker runs in its own process group, so ``kill()`` takes
    the pool children down with the main process.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    started: list[CeleryWorkerProcess] = []

    def start(
        broker: str,
        *,
        settings: str = "tests.settings_followup_worker",
        concurrency: int = 2,
        env: dict[str, str] | None = None,
        queues: str = "",
        patience: float = 120,
    ) -> CeleryWorkerProcess:
        db = connection.settings_dict
        name = f"gc-test-{os.getpid()}-{len(started)}"
        output = open(tmp_path / f"{name}.out", "w+b")  # noqa: SIM115
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                CELERY_APP,
                "worker",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--prefetch-multiplier=1",
                "-n",
                f"{name}@%h",
                *(["-Q", queues] if queues else []),
            ],
            cwd=root,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": settings,
                "DATABASE_URL": (f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"),
                "CELERY_BROKER_URL": broker,
                "PYTHONPATH": str(root),
                **(env or {}),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = CeleryWorkerProcess(process, output, name)
        started.append(worker)
        deadline = time.monotonic() + patience
        while b" ready." not in (output.seek(0) or output.read()):
            if not worker.alive():
                pytest.fail("the Celery worker exited:\n" + worker.log())
            if time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start:\n" + worker.log())
            time.sleep(0.2)
        return worker

    yield start
    for worker in started:
        worker.stop()
        worker.output.close()


@pytest.fixture(autouse=True)
def _no_settings_leak() -> Any:
    """Fail a test that leaves GRACEFUL_CANCEL or the mail settings changed for the next ones.

    Autouse fixtures are torn down last, so this sees the settings after every other fixture
    has restored its own. (Mixing ``@override_settings`` with pytest-django's ``settings``
    fixture, which ``email_backend`` uses, restores them in the wrong order: use the fixture.)
    """
    from django.conf import settings

    names = ("GRACEFUL_CANCEL", "MAILERS", "EMAIL_BACKEND")
    before = {name: getattr(settings, name, None) for name in names}
    yield
    leaked = [name for name in names if getattr(settings, name, None) != before[name]]
    if leaked:
        pytest.fail(f"This test leaked settings into the next tests: {', '.join(leaked)}")
