"""How the retention desk behaves with a large history on PostgreSQL (issue 6, "Scale").

Not part of the test suite. Run it by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gc_admin_bench \\
        .venv/bin/python benchmarks/admin_scale.py --cases 1000000

It creates the database if needed, creates the tables (the app's models as they are now, through
``migrate --run-syncdb``, so no migration file is needed), generates the history with
``load_demo_data --cases N`` (bulk inserts; cases that exist are kept, so a second run is quick),
then requests the admin pages as a superuser and prints, per page, the number of SQL queries and
the best and median of the wall-clock times. The query counts must not depend on N: run it at two
sizes and compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gc_admin_bench")


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (this measures PostgreSQL).")
    ensure_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from django_graceful_cancel.models import CancellationCase

    # The app's migrations are regenerated at release time; build its tables from the models.
    # Other apps first: syncdb creates unmigrated apps' tables before running migrations.
    with override_settings(MIGRATION_MODULES={"graceful_cancel": None}):
        call_command("migrate", verbosity=0)
        call_command("migrate", run_syncdb=True, verbosity=0)
    started = time.perf_counter()
    call_command("load_demo_data", "--cases", str(args.cases), "--batch-size", "10000")
    print(f"history ready in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    total = CancellationCase.objects.count()
    case = CancellationCase.objects.order_by("-priority", "-created_at").first()
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    changelist = reverse("admin:graceful_cancel_cancellationcase_changelist")
    dashboard = reverse("admin:graceful_cancel_dashboard")
    first_of_month = timezone.localdate().replace(day=1)
    month_end = (first_of_month - timedelta(days=1)).isoformat()
    month = (first_of_month - timedelta(days=1)).replace(day=1).isoformat()
    pages = [
        ("case list (queue by priority)", changelist),
        ("case list, open cases", changelist + "?status__exact=open"),
        (
            "case list, price + cancelled",
            changelist + "?status__exact=cancelled&reason__id__exact=1",
        ),
        ("case list, search reference", changelist + f"?q={case.reference}"),
        ("case list, search an email", changelist + "?q=alice@example.com"),
        ("case list, page 100", changelist + "?p=100"),
        ("one case page", reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk])),
        # refresh=1 recomputes every figure (what the first view of a range costs) ...
        ("dashboard, 365 days, computed", dashboard + "?refresh=1"),
        ("dashboard, one month, computed", dashboard + f"?start={month}&end={month_end}&refresh=1"),
        ("dashboard CSV, computed", dashboard + "?format=csv&refresh=1"),
        # ... later views within DASHBOARD_CACHE_SECONDS read the cached figures.
        ("dashboard, 365 days, cached", dashboard),
    ]
    print(f"\n{total:,} cases on PostgreSQL {connection.pg_version // 10000}")
    print(f"{'page':36} {'queries':>7} {'best ms':>9} {'median ms':>10}")
    for name, path in pages:
        timings, counts = [], set()
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            counts.add(len(queries))
        shown = "/".join(str(c) for c in sorted(counts))
        print(f"{name:36} {shown:>7} {min(timings):9.0f} {statistics.median(timings):10.0f}")


if __name__ == "__main__":
    main()
