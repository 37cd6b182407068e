"""A real local HTTP server receiving webhooks, and the documented way to verify them.

:func:`verify` is the recipe of docs/integrations.md, as a receiver would write it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.servers import HOST, ThreadedHttpServer

#: Signatures older than this are replays (docs/integrations.md).
TOLERANCE_SECONDS = 300


def verify(secret: str, body: bytes, header: str, *, now: float) -> bool:
    """Whether ``header`` (``t=…,v1=…[,v1=…]``) signs ``body`` with ``secret``, within five minutes."""
    items = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in items if key == "t"]
    signatures = [value for key, value in items if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        return False
    if abs(now - int(timestamps[0])) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamps[0]}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


@dataclass(frozen=True)
class Received:
    """One request the receiver got, and what it answered (None: it was too slow to matter)."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    #: The receiver's clock when it arrived (Unix seconds).
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> int:
        return int(self.headers["loyalty-event-id"])


class Receiver(ThreadedHttpServer):
    """``with Receiver() as receiver:``: answers 200, or what :meth:`fail_next` and
    :meth:`hang_next` ask for."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.requests: list[Received] = []
        self._plan: list[int | float] = []  # an int: a status; a float: seconds to wait before a 200
        self._always: int | None = None
        self._lock = threading.Lock()
        super().__init__(_handler(self))
        self.url = f"http://{HOST}:{self.port}/hooks"

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._plan.extend([status] * count)

    def hang_next(self, seconds: float) -> None:
        """Answer the next request only after ``seconds`` (longer than the sender's time-out)."""
        with self._lock:
            self._plan.append(float(seconds))

    def always(self, status: int | None) -> None:
        """Answer ``status`` to every request (None: back to normal)."""
        with self._lock:
            self._always = status

    @property
    def accepted(self) -> list[Received]:
        """The requests answered 2xx in time, in the order they arrived."""
        with self._lock:
            return [request for request in self.requests if request.status is not None and 200 <= request.status < 300]

    def _take(self) -> int | float:
        with self._lock:
            if self._always is not None:
                return self._always
            return self._plan.pop(0) if self._plan else 200

    def _record(self, request: Received) -> None:
        with self._lock:
            self.requests.append(request)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = receiver._take()
            if isinstance(answer, float):
                receiver._record(Received(self.path, headers, body, None, receiver.clock()))
                time.sleep(answer)
                status = 200
            else:
                status = answer
                receiver._record(Received(self.path, headers, body, status, receiver.clock()))
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read the recorded requests."""

    return Handler
