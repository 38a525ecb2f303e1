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
#: The dashboard goal's size: rollup rows for this many cases (benchmarks/rollup_scale.py).
ROLLUP_CASES = int(os.environ.get("BENCH_ROLLUP_CASES", "1000000"))
#: "Today's" sweep, measured in the same run: the code of this commit (issue 19's starting
#: point), extracted with ``git archive``; empty to skip.
SWEEP_BASELINE_REF = os.environ.get("BENCH_SWEEP_BASELINE_REF", "90cb73f")


def script(name: str, *args: Any, timeout: int = 7200, root: Path = ROOT) -> Any:
    began = time.perf_counter()
    print(f"… {name} {' '.join(map(str, args))} ({root})", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / name), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=root,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"  done in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    return read_result(done.stdout)


def baseline_tree(ref: str) -> Path:
    """The code of ``ref``, extracted (read-only git) into a temporary directory."""
    import tempfile

    target = Path(tempfile.mkdtemp(prefix="gc-bench-baseline-"))
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, capture_output=True, check=True, timeout=120
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


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
    rebuilt = [
        "gc_bench_small",
        "gc_bench_sweep",
        "gc_bench_sweep_base",
        "gc_bench_rollups",
        "gc_bench_rollups_small",
    ]
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
    sweep_today = None
    if SWEEP_BASELINE_REF:
        sweep_today = script(
            "sweep.py",
            "gc_bench_sweep_base",
            SWEEP_ROWS,
            "1",
            root=baseline_tree(SWEEP_BASELINE_REF),
        )["runs"][0]
    rollup_large = script("rollup_scale.py", "gc_bench_rollups", ROLLUP_CASES)
    rollup_small = script("rollup_scale.py", "gc_bench_rollups_small", SMALL)

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
        "≤ 1.25 (baseline/app)",
    )
    for p in ("p50", "p95", "p99"):
        row(
            f"API latency {p} ms",
            app[p],
            base[p],
            ratio(app[p], base[p]),
            "≤ 1.30" if p == "p95" else "",
        )
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

    rows.append(
        (
            f"## Dashboard case sections from the rollups, one-year range, fresh process, no cache"
            f" (baseline: {rollup_small['cases']:,} cases' worth)",
            "",
            "",
            "",
            "",
        )
    )
    row(
        f"case sections: seconds at {rollup_large['cases']:,} cases"
        f" ({rollup_large['rollup_rows']:,} rollup rows)",
        rollup_large["case_sections_seconds"],
        rollup_small["case_sections_seconds"],
        ratio(rollup_large["case_sections_seconds"], rollup_small["case_sections_seconds"]),
        "< 0.25 s, ≤ 1.50",
    )
    if sweep_today is not None:
        row(
            f"sweep msg/s, 1 worker (baseline: today's code, {SWEEP_BASELINE_REF})",
            one["per_second"],
            sweep_today["per_second"],
            ratio(one["per_second"], sweep_today["per_second"]),
            "≥ 5.00",
        )

    goals = goal_lines(large, load, sweep, sweep_today, rollup_large, rollup_small, exports)
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
    lines += ["", "Goals of issue 19 (each against its baseline measured in this run):", *goals]
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
                "sweep_today": sweep_today,
                "rollups": {"large": rollup_large, "small": rollup_small},
                "goals": goals,
            },
            indent=2,
            default=str,
        )
    )


def goal_lines(
    large: dict[str, Any],
    load: dict[str, Any],
    sweep: list[dict[str, Any]],
    sweep_today: dict[str, Any] | None,
    rollup_large: dict[str, Any],
    rollup_small: dict[str, Any],
    exports: dict[tuple[str, str], Any],
) -> list[str]:
    """Each goal of issue 19, met or missed and by how much."""
    found: list[str] = []

    def goal(name: str, met: bool, detail: str) -> None:
        found.append(f"  [{'met' if met else 'MISSED'}] {name}: {detail}")

    q = large["queries"]
    for step, api_key, base_key, limit in (
        ("start", "api: POST cases/ (start)", "baseline: POST cases/ (start)", 8),
        ("reason", "api: POST reason/", "baseline: POST reason/", 12),
        ("confirm", "api: POST confirm/ (declines the offer)", "baseline: POST confirm/", 12),
    ):
        n, base = q[api_key], q[base_key]
        goal(
            f"API {step} queries <= {limit} (1.3x the baseline's {base})",
            n <= limit,
            f"{n} ({n / base:.2f}x the baseline; {n - limit:+d} against the goal)",
        )
    page_pairs = (
        (
            "page start+reason (one POST)",
            q["page: reason (POST start)"],
            q["api: POST cases/ (start)"] + q["api: POST reason/"] - 1,
        ),
        ("page confirm", q["page: confirm (POST)"], q["api: POST confirm/ (declines the offer)"]),
    )
    for name, n, api in page_pairs:
        goal(
            f"{name} within 2 queries of its API step ({api})", n <= api + 2, f"{n} ({n - api:+d})"
        )
    app, base = load["app"], load["baseline"]
    rps = base["rps"] / app["rps"] if app["rps"] else float("inf")
    goal("API throughput within 1.25x of the baseline", rps <= 1.25, f"{rps:.2f}x")
    p95 = app["p95"] / base["p95"] if base["p95"] else float("inf")
    goal("API p95 within 1.3x of the baseline", p95 <= 1.3, f"{p95:.2f}x")
    seconds = rollup_large["case_sections_seconds"]
    goal(
        f"dashboard case sections from scratch < 0.25 s at {rollup_large['cases']:,} cases",
        seconds < 0.25,
        f"{seconds:.3f} s ({rollup_large['rollup_rows']:,} rollup rows over"
        f" {rollup_large['days']} days)",
    )
    small_seconds = rollup_small["case_sections_seconds"]
    goal(
        f"... within 1.5x of its time at {rollup_small['cases']:,} cases",
        seconds <= 1.5 * small_seconds,
        f"{seconds / small_seconds:.2f}x" if small_seconds else "n/a",
    )
    big, little = exports[("gc_bench", "dashboard")], exports[("gc_bench_small", "dashboard")]
    goal(
        f"whole dashboard page (every section) at {large['cases']:,} real cases within 1.5x of"
        f" {little['cases']:,}",
        big["seconds"] <= 1.5 * little["seconds"],
        f"{big['seconds']:.3f} s vs {little['seconds']:.3f} s"
        f" ({big['seconds'] / little['seconds']:.2f}x)",
    )
    one = sweep[0]
    if sweep_today is not None:
        speedup = one["per_second"] / sweep_today["per_second"]
        goal(
            "sweep >= 5x today's messages per second per worker",
            speedup >= 5,
            f"{one['per_second']:.1f} vs {sweep_today['per_second']:.1f} msg/s ({speedup:.2f}x)",
        )
    duplicates = sum(run["duplicates"] + run["missing"] for run in sweep)
    goal("sweep: 0 duplicates, 0 missing", duplicates == 0, f"{duplicates}")
    growth = max(run["peak_rss_mb"] / run["idle_rss_mb"] for run in sweep)
    goal("sweep: bounded memory (peak within 1.2x of idle)", growth <= 1.2, f"{growth:.2f}x")
    two = next((run for run in sweep if run["workers"] == 2), None)
    if two is not None:
        scale = two["per_second"] / one["per_second"]
        goal("sweep: 2 workers >= 1.6x one worker", scale >= 1.6, f"{scale:.2f}x")
    return found


if __name__ == "__main__":
    main()
