"""gunicorn's threaded worker, noting when each request reached it (``gunicorn.conf.py`` names it).

A request can wait in a worker before the application sees it: the worker's threads are busy, the
connection is queued for the next free one. A client counts that wait; a clock started by the
application cannot. This worker notes the moment it hands a connection to its threads (a new
connection accepted, or a kept-alive one with its next request) and gives it to the application in
the WSGI environ, under :data:`ARRIVED_AT` (seconds since the epoch), from which
``loyalty_http_request_duration_seconds`` is measured (app/metrics.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker

#: The environ key holding when the worker took the request in (``time.time()``).
ARRIVED_AT = "loyalty.arrived_at"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ThreadWorker(GunicornThreadWorker):
    """gunicorn's ``gthread`` worker, noting when each request arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handling = threading.local()

    def enqueue_req(self, conn: Any) -> None:
        conn.arrived_at = time.time()
        super().enqueue_req(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        self._handling.arrived_at = getattr(conn, "arrived_at", None)
        try:
            return super().handle_request(req, conn)
        finally:
            self._handling.arrived_at = None

    def load_wsgi(self) -> None:
        super().load_wsgi()
        application: WsgiApp = self.wsgi  # type: ignore[has-type]
        handling = self._handling

        def noting_arrival(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            arrived_at = getattr(handling, "arrived_at", None)
            if arrived_at is not None:
                environ[ARRIVED_AT] = arrived_at
            return application(environ, start_response)

        self.wsgi = noting_arrival
