"""A small, bounded load generator (the "second process" of the API load test).

Reads a JSON job on stdin: {"base": "http://127.0.0.1:PORT", "flows": [[token, kind], ...],
"concurrency": C, "paths": "app" | "baseline"}. Each flow is start -> reason -> confirm for one
customer over keep-alive HTTP/1.1. Prints one RESULT line: latencies (ms) of every request,
errors, and the wall time.
"""

from __future__ import annotations

import http.client
import json
import queue
import sys
import threading
import time
from urllib.parse import urlparse


def run(job: dict) -> dict:
    base = urlparse(job["base"])
    work: queue.Queue = queue.Queue()
    for flow in job["flows"]:
        work.put(flow)
    latencies: list[float] = []
    steps: dict[str, list[float]] = {"start": [], "reason": [], "confirm": []}
    errors: list[str] = []
    lock = threading.Lock()
    baseline = job["paths"] == "baseline"

    def request(
        conn: http.client.HTTPConnection, step: str, path: str, token: str, body: dict
    ) -> dict:
        payload = json.dumps(body)
        began = time.perf_counter()
        conn.request(
            "POST",
            path,
            payload,
            {"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - began) * 1000
        with lock:
            latencies.append(elapsed)
            steps[step].append(elapsed)
            if response.status >= 300:
                errors.append(f"{path} {response.status} {data[:200]!r}")
        return json.loads(data) if data and response.status < 300 else {}

    def worker() -> None:
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
        while True:
            try:
                token = work.get_nowait()
            except queue.Empty:
                break
            if baseline:
                case = request(conn, "start", "/bench/baseline/cases/", token, {})
                key = case.get("id")
                root = f"/bench/baseline/cases/{key}"
            else:
                case = request(conn, "start", "/api/cancel/cases/", token, {})
                key = case.get("reference")
                root = f"/api/cancel/cases/{key}"
            if key is None:
                continue
            request(
                conn, "reason", f"{root}/reason/", token, {"reason": "price", "detail": "too dear"}
            )
            request(conn, "confirm", f"{root}/confirm/", token, {})
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(job["concurrency"])]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return {"latencies": latencies, "steps": steps, "errors": errors, "seconds": seconds}


if __name__ == "__main__":
    print("RESULT " + json.dumps(run(json.load(sys.stdin))), flush=True)
