"""The follow-up sweep on real Celery workers (Redis DB 7, PostgreSQL, anymail's test backend):
N due confirmations sent by 1, 2 and 4 worker processes. Messages per second, peak resident
memory per worker (VmHWM), and duplicates (sends per row beyond one, from a log all processes
append to).

    python benchmarks/sweep.py DATABASE ROWS WORKERS[,WORKERS...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, bench_env, due_confirmations, emit, ensure_database, setup

BROKER = "redis://127.0.0.1:6379/7"


def make_due_rows(count: int, tag: str) -> list[int]:
    """A backlog of ``count`` confirmations due now, inserted in batches."""
    return due_confirmations(count, prefix=f"sw{tag}-", batch_size=5000)


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def start_worker(database: str, name: str, log: Path) -> tuple[subprocess.Popen, Any]:
    out = open(log.with_name(f"{name}.out"), "w+b")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--prefetch-multiplier=1",
            "-n",
            f"{name}@%h",
        ],
        cwd=ROOT / "example_project",
        env=bench_env(database, CELERY_BROKER_URL=BROKER, BENCH_SENT_LOG=str(log)),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    return process, out


def run(database: str, rows: int, workers: int, tmp: Path) -> dict[str, Any]:
    from django_graceful_cancel import tasks
    from django_graceful_cancel.models import FollowUp

    tag = f"{workers}w{int(time.time())}"
    pks = make_due_rows(rows, tag)
    log = tmp / f"sent-{tag}.log"
    procs = [start_worker(database, f"bench-{tag}-{i}", log) for i in range(workers)]
    try:
        from config.celery import app

        deadline = time.monotonic() + 120
        while len(app.control.ping(timeout=1) or []) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
        idle_kb = [proc_kb(p.pid, "VmRSS") for p, _ in procs]
        began = time.perf_counter()
        for _ in range(workers * 2):
            tasks.sweep_followups.delay(batch_size=200, max_batches=100_000)
        mine = FollowUp.objects.filter(pk__in=pks) if rows <= 50_000 else None
        first, last = pks[0], pks[-1]
        scope = mine if mine is not None else FollowUp.objects.filter(pk__gte=first, pk__lte=last)
        deadline = time.monotonic() + 3600
        while scope.exclude(status="sent").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the sweep did not finish")
            time.sleep(0.5)
        seconds = time.perf_counter() - began
        peak_kb = [proc_kb(p.pid, "VmHWM") for p, _ in procs]
    finally:
        for process, _out in procs:
            process.terminate()
        for process, out in procs:
            process.wait(timeout=60)
            out.close()
    sent = Counter(line.split()[0] for line in log.read_text().splitlines())
    return {
        "workers": workers,
        "rows": rows,
        "seconds": seconds,
        "per_second": rows / seconds,
        "sends": sum(sent.values()),
        "duplicates": sum(n - 1 for n in sent.values() if n > 1),
        "missing": rows - len(set(sent) & {str(pk) for pk in pks}),
        "idle_rss_mb": max(idle_kb) / 1024,
        "peak_rss_mb": max(peak_kb) / 1024,
    }


def main() -> None:
    database, rows = sys.argv[1], int(sys.argv[2])
    counts = [int(n) for n in sys.argv[3].split(",")]
    ensure_database(database)
    os.environ["CELERY_BROKER_URL"] = BROKER
    setup(database)
    from django.core.management import call_command
    from django.test import override_settings

    with override_settings(MIGRATION_MODULES={"graceful_cancel": None}):
        call_command("migrate", verbosity=0)
        call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("graceful_cancel_load_catalogue", stdout=open(os.devnull, "w"))  # noqa: SIM115
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="gc-bench-sweep-"))
    emit({"runs": [run(database, rows, n, tmp) for n in counts]})


if __name__ == "__main__":
    main()
