"""The follow-up sweep in this one process (no broker, no worker): messages per second of
``sweep_followups`` over ROWS due confirmations, batches of 200. Run it from the root of the
checkout to measure (the code imported is the one under the current directory), e.g. the code
of an earlier commit extracted with ``git archive`` next to this one.

    python benchmarks/sweep_inprocess.py DATABASE ROWS [--without-evidence]

``--without-evidence`` leaves out the evidence record's snapshot of each confirmation sent
(``services.evidence.confirmation_sent``), to see what the sweep itself costs.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import due_confirmations, emit, ensure_database, setup


def main() -> None:
    database, rows = sys.argv[1], int(sys.argv[2])
    ensure_database(database)
    setup(database)
    from django.core.management import call_command
    from django.test import override_settings

    with override_settings(MIGRATION_MODULES={"graceful_cancel": None}):
        call_command("migrate", verbosity=0)
        call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("graceful_cancel_load_catalogue", stdout=open(os.devnull, "w"))  # noqa: SIM115
    if "--without-evidence" in sys.argv:
        from django_graceful_cancel.services import evidence

        evidence.confirmation_sent = lambda *args, **kwargs: None  # type: ignore[assignment]
    from django_graceful_cancel.followups import outbox

    due_confirmations(rows, prefix=f"inproc{int(time.time())}-")
    outbox.sweep_followups(batch_size=5, max_batches=1)  # warm-up: imports, templates
    began = time.perf_counter()
    done = outbox.sweep_followups(batch_size=200, max_batches=100_000)
    seconds = time.perf_counter() - began
    emit({"rows": done, "seconds": seconds, "per_second": done / seconds})


if __name__ == "__main__":
    main()
