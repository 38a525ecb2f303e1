"""The API flow (start, reason, confirm) under concurrent load from a second process, against
the example project served by gunicorn on PostgreSQL, and the same load against the
hand-written baseline API of baseline.py in the same server.

    python benchmarks/load.py DATABASE FLOWS CONCURRENCY
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, bench_env, emit, port_open, read_result, setup

PORT = 8391
GUNICORN_WORKERS = 2  # the machine has two cores


def customers(prefix: str, count: int) -> list[str]:
    """``count`` fresh customers with an active subscription and an API token each."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from shop.models import Plan, Subscription

    User = get_user_model()
    stamp = int(time.time())
    password = make_password("x")
    users = User.objects.bulk_create(
        User(username=f"{prefix}{stamp}-{i}", email=f"{prefix}{i}@example.com", password=password)
        for i in range(count)
    )
    now = timezone.now()
    plan = Plan.objects.get(code="standard")
    Subscription.objects.bulk_create(
        Subscription(
            user=u,
            plan=plan,
            started_at=now - timedelta(days=300),
            current_period_end=now + timedelta(days=15),
        )
        for u in users
    )
    tokens = Token.objects.bulk_create(Token(user=u, key=Token.generate_key()) for u in users)
    return [t.key for t in tokens]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def drive(paths: str, tokens: list[str], concurrency: int) -> dict[str, Any]:
    job = {
        "base": f"http://127.0.0.1:{PORT}",
        "flows": tokens,
        "concurrency": concurrency,
        "paths": paths,
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "loadgen.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=900,
    )
    result = read_result(done.stdout + done.stderr)
    latencies = result["latencies"]
    if result["errors"]:
        raise RuntimeError(f"{paths}: {len(result['errors'])} errors, e.g. {result['errors'][:3]}")
    return {
        "requests": len(latencies),
        "rps": len(latencies) / result["seconds"],
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        **{f"p50 {step}": statistics.median(ms) for step, ms in result["steps"].items() if ms},
    }


def main() -> None:
    database, flows, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    setup(database)
    warm = 20
    tokens = {
        "app": customers("load-app-", flows + warm),
        "baseline": customers("load-base-", flows + warm),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--worker-class",
            "sync",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ],
        cwd=ROOT / "example_project",
        env=bench_env(database),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", PORT):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start: " + server.stderr.read().decode())
            time.sleep(0.2)
        # Warm both (imports, connections, caches) before measuring.
        for paths in ("app", "baseline"):
            drive(paths, tokens[paths][:warm], concurrency)
        results = {
            paths: drive(paths, tokens[paths][warm:], concurrency) for paths in ("baseline", "app")
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    emit(
        {
            "flows": flows,
            "concurrency": concurrency,
            "gunicorn_workers": GUNICORN_WORKERS,
            **results,
        }
    )


if __name__ == "__main__":
    main()
