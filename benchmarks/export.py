"""Dashboard and CSV export at a database's size: wall time and peak memory growth of a fresh
process (VmHWM after the request minus VmRSS before it, after a warm-up request).

    python benchmarks/export.py DATABASE OPERATION   (dashboard | dashboard_csv | export_csv)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, setup


def kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    database, operation = sys.argv[1], sys.argv[2]
    setup(database)
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from django_graceful_cancel.models import CancellationCase

    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    changelist = reverse("admin:graceful_cancel_cancellationcase_changelist")
    dashboard = reverse("admin:graceful_cancel_dashboard")
    assert client.get(changelist).status_code == 200  # warm-up: imports, templates, connection
    cache.clear()
    before = kb("VmRSS")
    began = time.perf_counter()
    size = 0
    if operation == "dashboard":
        response = client.get(dashboard + "?refresh=1")
        size = len(response.content)
    elif operation == "dashboard_csv":
        response = client.get(dashboard + "?format=csv&refresh=1")
        size = len(response.content)
    elif operation == "export_csv":
        first = CancellationCase.objects.values_list("pk", flat=True).first()
        response = client.post(
            changelist,
            {
                "action": "export_csv",
                "select_across": "1",
                "index": "0",
                "_selected_action": [first],
            },
        )
        lines = 0
        for chunk in response.streaming_content:  # read it as a browser would, chunk by chunk
            size += len(chunk)
            lines += chunk.count(b"\n")
        assert lines >= CancellationCase.objects.count(), (lines, "rows missing from the export")
    else:
        raise SystemExit(f"unknown operation {operation}")
    assert response.status_code == 200, response.status_code
    seconds = time.perf_counter() - began
    emit(
        {
            "operation": operation,
            "seconds": seconds,
            "peak_growth_mb": max(kb("VmHWM") - before, 0) / 1024,
            "bytes": size,
            "cases": CancellationCase.objects.count(),
        }
    )


if __name__ == "__main__":
    main()
