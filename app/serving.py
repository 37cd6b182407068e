"""gunicorn's threaded worker, noting when each request reached it (``gunicorn.conf.py`` names it).

A request can wait before the application sees it: in the socket until the worker's main thread
looks, then queued for a free thread. A client counts that wait; a clock started by the application
cannot. This worker gives the application, in the WSGI environ under :data:`ARRIVED_AT` (seconds
since the epoch), when the request arrived: on Linux the kernel's receive time of its first bytes
(``SO_TIMESTAMPNS``, set on the listening sockets, which accepted connections inherit, and read with a
peek when the connection is handed to the threads), the first request of a connection included;
elsewhere, or when its bytes have not yet arrived as the connection is accepted, the moment it is
handed over. (Linux turns the timestamps on through deferred work the first time a socket on the
machine asks for them: requests in the first moments after the first worker starts may carry none,
and are timed from the hand-over.)
``loyalty_http_request_duration_seconds`` is measured from there (app/metrics.py).
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker

#: The environ key holding when the worker took the request in (``time.time()``).
ARRIVED_AT = "loyalty.arrived_at"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: Linux's value, which Python names on few builds.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("qq")


def received_at(sock: socket.socket) -> float | None:
    """When the kernel received the first bytes waiting on ``sock`` (``SO_TIMESTAMPNS`` on), read
    without consuming them; None when nothing waits or the socket cannot say (TLS, not Linux)."""
    try:
        _data, ancillary, _flags, _address = sock.recvmsg(
            1, socket.CMSG_SPACE(_TIMESPEC.size), socket.MSG_PEEK | socket.MSG_DONTWAIT
        )
    except (OSError, NotImplementedError, ValueError):
        return None
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(value)
            return float(seconds + nanoseconds / 1e9)
    return None


def stamp_receipts(sock: socket.socket) -> None:
    """Have the kernel note when each packet reaches ``sock`` (Linux; elsewhere nothing)."""
    if sys.platform == "linux":
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError:
            pass


class ThreadWorker(GunicornThreadWorker):
    """gunicorn's ``gthread`` worker, noting when each request arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handling = threading.local()

    def run(self) -> None:
        for listener in self.sockets:
            stamp_receipts(listener.sock)
        super().run()

    def enqueue_req(self, conn: Any) -> None:
        conn.arrived_at = received_at(conn.sock) or time.time()
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
