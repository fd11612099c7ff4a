"""A real HTTP receiver for webhook tests: ``http.server`` on 127.0.0.1, port 0, in a thread.

It records every request (path, headers, raw body), answers ``fail_status`` to the first
``fail_first`` requests and 200 after, and can hold a request open until ``release()``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Received", "Receiver"]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event_id(self) -> str:
        return self.headers.get("mailfate-event-id", "")


class Receiver:
    def __init__(self, *, fail_first: int = 0, fail_status: int = 500, hold_at: int = 0) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.hold_at = hold_at
        """The n-th request (1-based) waits for ``release()`` before answering (0: none)."""
        self.requests: list[Received] = []
        self._held = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    n = len(receiver.requests) + 1
                    status = receiver.fail_status if n <= receiver.fail_first else 200
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                if n == receiver.hold_at:
                    receiver._held.wait(10)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status >= 300 else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that went away (the test cancelled it) is expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def release(self) -> None:
        self._held.set()

    def stop(self) -> None:
        self._held.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def delivered_ids(self) -> list[int]:
        return [int(r.event_id) for r in self.received() if r.status < 300]

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
