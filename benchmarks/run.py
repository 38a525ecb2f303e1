"""``make bench``: every benchmark of issue 8, one table, each figure next to a baseline measured
in the same run, as a ratio. Not part of ``make test``.

Sizes (environment): BENCH_CASES (large history, default 1,000,000), BENCH_SMALL (default
1,000), BENCH_FLOWS (API flows per side, default 300) and BENCH_CONCURRENCY (default 8),
BENCH_SWEEP_ROWS (due follow-ups per worker count, default 100,000), BENCH_WORKERS (default
"1,2,4"). Databases on BENCH_PG (default postgres://postgres@127.0.0.1:5432): gc_bench (large),
gc_bench_small and gc_bench_sweep, all rebuilt from the current models each run
(BENCH_KEEP_LARGE=1 keeps gc_bench and only tops its history up, when the models have not
changed since).
Results go to benchmarks/results/latest.{json,txt}.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, db_url, read_result

HERE = ROOT / "benchmarks"
LARGE = int(os.environ.get("BENCH_CASES", "1000000"))
SMALL = int(os.environ.get("BENCH_SMALL", "1000"))
FLOWS = int(os.environ.get("BENCH_FLOWS", "300"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SWEEP_ROWS = int(os.environ.get("BENCH_SWEEP_ROWS", "100000"))
WORKERS = os.environ.get("BENCH_WORKERS", "1,2,4")


def script(name: str, *args: Any, timeout: int = 7200) -> Any:
    began = time.perf_counter()
    print(f"… {name} {' '.join(map(str, args))}", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, str(HERE / name), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"  done in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    return read_result(done.stdout)


def drop(database: str) -> None:
    import psycopg

    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def sh(command: str) -> str:
    try:
        return subprocess.run(
            command, shell=True, capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except Exception as error:  # noqa: BLE001 - machine facts are best effort
        return f"? ({error})"


def machine() -> dict[str, str]:
    import celery
    import django
    import psycopg
    import rest_framework

    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    return {
        "cpu": cpu,
        "nproc": sh("nproc"),
        "memory": sh('free -h | awk \'/Mem:/ {print $2" total, "$7" available"}\''),
        "load average at start": sh("cut -d' ' -f1-3 /proc/loadavg"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "celery": celery.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": sh("psql -h 127.0.0.1 -U postgres -Atc 'show server_version'"),
        "redis": sh("redis-server --version | cut -d' ' -f3"),
        "gunicorn": sh(f"{Path(sys.executable).with_name('gunicorn')} --version"),
    }


def fmt(value: float | int | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    return (
        f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"
    )


def ratio(value: float, base: float) -> str:
    if not base:
        return "n/a" if value else "1.00"
    return f"{value / base:.2f}"


def main() -> None:
    facts = machine()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    rebuilt = ["gc_bench_small", "gc_bench_sweep"]
    if os.environ.get("BENCH_KEEP_LARGE") != "1":
        rebuilt.append("gc_bench")
    for database in rebuilt:
        drop(database)
    small = script("queries.py", "gc_bench_small", SMALL)
    large = script("queries.py", "gc_bench", LARGE)
    exports = {
        (db, op): script("export.py", db, op)
        for db in ("gc_bench_small", "gc_bench")
        for op in ("dashboard", "dashboard_csv", "export_csv")
    }
    load = script("load.py", "gc_bench", FLOWS, CONCURRENCY)
    sweep = script("sweep.py", "gc_bench_sweep", SWEEP_ROWS, WORKERS)["runs"]

    n_small, n_large = small["cases"], large["cases"]
    rows: list[tuple[str, str, str, str, str]] = []

    def row(measure: str, value: Any, base: Any, rat: str, goal: str) -> None:
        rows.append((measure, fmt(value), fmt(base), rat, goal))

    section = (
        f"Queries per request at {n_large:,} cases (baseline: the same request at {n_small:,})"
    )
    rows.append((f"## {section}", "", "", "", ""))
    for name, count in large["queries"].items():
        base = small["queries"][name]
        row(f"queries: {name}", count, base, ratio(count, base), "same (1.00)")

    rows.append(
        (
            "## API flow start→reason→confirm under load (baseline: hand-written DRF views)",
            "",
            "",
            "",
            "",
        )
    )
    app, base = load["app"], load["baseline"]
    row(
        "API req/s (higher is better)",
        app["rps"],
        base["rps"],
        ratio(base["rps"], app["rps"]),
        "≤ 1.50 (baseline/app)",
    )
    for p in ("p50", "p95", "p99"):
        row(f"API latency {p} ms", app[p], base[p], ratio(app[p], base[p]), "≤ 1.50")
    for step, name in (
        ("start", "POST cases/ (start)"),
        ("reason", "POST reason/"),
        ("confirm", "POST confirm/"),
    ):
        app_q, base_q = large["queries"][f"api: {name}"], large["queries"][f"baseline: {name}"]
        row(f"API queries, {step} (why the gap)", app_q, base_q, ratio(app_q, base_q), "")
    for step in ("start", "reason", "confirm"):
        key = f"p50 {step}"
        row(f"API latency p50 ms, {step} only", app[key], base[key], ratio(app[key], base[key]), "")

    rows.append(
        (
            f"## Follow-up sweep, {SWEEP_ROWS:,} due messages (baseline: 1 worker; idle RSS)",
            "",
            "",
            "",
            "",
        )
    )
    one = sweep[0]
    for run in sweep:
        n = run["workers"]
        row(
            f"sweep msg/s, {n} worker(s)",
            run["per_second"],
            one["per_second"],
            ratio(run["per_second"], one["per_second"]),
            "≈ 2 at 2 workers" if n == 2 else ("" if n == 1 else "2 cores: ~2"),
        )
        row(
            f"sweep peak RSS MB per worker, {n} worker(s)",
            run["peak_rss_mb"],
            run["idle_rss_mb"],
            ratio(run["peak_rss_mb"], run["idle_rss_mb"]),
            "bounded (≈ 1)",
        )
        row(
            f"sweep duplicates / missing, {n} worker(s)",
            f"{run['duplicates']} / {run['missing']}",
            "0 / 0",
            "",
            "0 / 0",
        )

    rows.append(
        (
            f"## Dashboard and CSV export at {n_large:,} cases (baseline: same at {n_small:,})",
            "",
            "",
            "",
            "",
        )
    )
    for op, label in (
        ("dashboard", "dashboard (computed)"),
        ("dashboard_csv", "dashboard CSV (computed)"),
        ("export_csv", "CSV export of every case (streamed)"),
    ):
        big, little = exports[("gc_bench", op)], exports[("gc_bench_small", op)]
        row(
            f"{label}: seconds",
            big["seconds"],
            little["seconds"],
            ratio(big["seconds"], little["seconds"]),
            "",
        )
        row(
            f"{label}: peak memory growth MB",
            big["peak_growth_mb"],
            little["peak_growth_mb"],
            ratio(big["peak_growth_mb"], little["peak_growth_mb"]),
            "constant" if op == "export_csv" else "",
        )

    widths = [max(len(r[i]) for r in rows if not r[0].startswith("##")) for i in range(5)]
    headers = ("measure", "this app", "baseline", "ratio", "goal")
    widths = [max(w, len(h)) for w, h in zip(widths, headers, strict=True)]
    lines = [
        f"django-graceful-cancel benchmarks, {started}",
        f"sizes: {n_small:,} and {n_large:,} cases (history loaded in {large['load_seconds']} s this run);"
        f" {FLOWS} API flows per side, {CONCURRENCY} concurrent clients, gunicorn {load['gunicorn_workers']} sync workers;"
        f" sweep {SWEEP_ROWS:,} rows per worker count",
        "machine: " + "; ".join(f"{k} {v}" for k, v in facts.items()),
        "",
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for r in rows:
        if r[0].startswith("##"):
            lines.append(r[0][3:])
        else:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    table = "\n".join(lines)
    print(table)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.txt").write_text(table + "\n")
    (out / "latest.json").write_text(
        json.dumps(
            {
                "started": started,
                "machine": facts,
                "sizes": {"small": n_small, "large": n_large, "flows": FLOWS, "sweep": SWEEP_ROWS},
                "queries": {"small": small, "large": large},
                "exports": {f"{db}:{op}": v for (db, op), v in exports.items()},
                "load": load,
                "sweep": sweep,
            },
            indent=2,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
