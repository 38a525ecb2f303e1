"""Shared by the benchmark scripts: the databases, Django set-up, tables and data.

The benchmarks run on the example site (benchmarks/settings.py) and import nothing from tests/.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SETTINGS = "benchmarks.settings"


def db_url(name: str) -> str:
    return f"{PG}/{name}"


def pythonpath() -> str:
    return os.pathsep.join([str(ROOT), str(ROOT / "example_project")])


def bench_env(database: str, **extra: str) -> dict[str, str]:
    """Environment of a benchmark subprocess (gunicorn, celery, a measurement)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": db_url(database),
        "PYTHONPATH": pythonpath(),
        **extra,
    }


def setup(database: str) -> None:
    """Configure Django in this process for ``database`` (which must exist)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["DATABASE_URL"] = db_url(database)
    import django

    django.setup()


def ensure_database(database: str) -> None:
    import psycopg

    admin = urlparse(db_url("postgres")).geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')


def build(cases: int) -> dict[str, Any]:
    """Tables from the models (the app's migrations are regenerated at release time; nothing is
    written to disk) and ``load_demo_data --cases N`` (bulk inserts; existing history kept)."""
    import time

    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from django_graceful_cancel.models import CancellationCase

    with override_settings(MIGRATION_MODULES={"graceful_cancel": None}):
        call_command("migrate", verbosity=0)
        call_command("migrate", run_syncdb=True, verbosity=0)
    started = time.perf_counter()
    devnull = open(os.devnull, "w")  # noqa: SIM115
    call_command("load_demo_data", "--cases", str(cases), "--batch-size", "10000", stdout=devnull)
    # As after upgrading: the dashboard's rollups built once from the history (docs/performance.md).
    call_command("graceful_cancel_rebuild_rollups", stdout=devnull)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "cases": CancellationCase.objects.count(),
        "load_seconds": round(time.perf_counter() - started, 1),
    }


def due_confirmations(count: int, *, prefix: str, batch_size: int = 5000) -> list[int]:
    """A backlog: ``count`` cancelled cases of new customers ``<prefix><i>``, each with its
    confirmation due now, inserted in bulk; the follow-ups' primary keys."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from django_graceful_cancel.choices import CaseStatus
    from django_graceful_cancel.models import CancellationCase, FollowUp

    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        (
            user_model(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com")
            for i in range(count)
        ),
        batch_size=batch_size,
    )
    now = timezone.now()
    cases = CancellationCase.objects.bulk_create(
        (
            CancellationCase(
                customer=user,
                subscription_ref=f"bulk:{user.pk}",
                status=CaseStatus.CANCELLED,
                cancelled_at=now,
                closed_at=now,
                effective_at=now + timedelta(days=20),
                plan="Standard",
                language="en",
            )
            for user in users
        ),
        batch_size=batch_size,
    )
    rows = FollowUp.objects.bulk_create(
        (
            FollowUp(
                case=case,
                customer_id=case.customer_id,
                stage="confirmation",
                template="confirmation",
                channel="email",
                due_at=now - timedelta(minutes=1),
            )
            for case in cases
        ),
        batch_size=batch_size,
    )
    return [row.pk for row in rows]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def emit(result: Any) -> None:
    """Scripts print their result as one JSON line last; the runner reads it."""
    print("RESULT " + json.dumps(result, default=str), flush=True)


def read_result(output: str) -> Any:
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError("no RESULT line in:\n" + output[-4000:])
