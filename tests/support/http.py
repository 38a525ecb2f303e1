"""A local HTTP endpoint for outbound tests (webhooks, Slack): ``http.server`` in a thread on
127.0.0.1, recording every POST and answering as the test scripts it.

    with LocalEndpoint() as endpoint:
        endpoint.answers = [500, 500]   # the next two requests fail, then 200
        ...
        endpoint.accepted()             # the requests it answered with a 2xx

``hang=True`` makes it accept connections and never answer (a dead endpoint that times out).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    #: What the endpoint answered (None: it never did).
    status: int | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class LocalEndpoint:
    #: Statuses for the next requests, in order; 200 once the list is used up.
    answers: list[int] = field(default_factory=list)
    hang: bool = False
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                with endpoint.lock:
                    endpoint.requests.append(received)
                    status = endpoint.answers.pop(0) if endpoint.answers else 200
                if endpoint.hang:
                    endpoint.release.wait(30)
                    return
                received.status = status
                body = b"ok" if status < 300 else b"simulated failure"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def accepted(self) -> list[Received]:
        """The requests answered with a 2xx, in the order they came."""
        with self.lock:
            return [r for r in self.requests if r.status is not None and 200 <= r.status < 300]

    def __enter__(self) -> LocalEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
