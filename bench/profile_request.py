"""Where a hot request's time goes: the real application called as gunicorn calls it (its WSGI
callable), in this process, against PostgreSQL, timed and then profiled with pyinstrument.

``python -m bench.profile_request [--requests 500] [--routes member status purchase crossing]``. Sets up the
database ``loyalty_profile`` (dropped and recreated, as ``bench.till_load`` does, with fewer
members), then for each route: a warm-up, ``--requests`` requests timed (CPU and wall milliseconds
per request, statements per request), and the same number again under the profiler, whose heaviest
frames (own CPU time) and call tree it prints. Every request is built beforehand, so the figures are the
application's alone: no HTTP parsing, no client. Waiting for PostgreSQL shows as psycopg's ``wait``.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer
from pyinstrument.stack_sampler import get_stack_sampler
from sqlalchemy import event
from werkzeug.test import EnvironBuilder

from app import create_app
from app.requestlog import JsonFormatter
from bench import stack
from bench.statements import till_purchase

DATABASE = "loyalty_profile"
STORE = "S001"
WARM_UP = 30
#: One environ per request: ``(app, member ids, bearer headers, number) -> environ``.
Build = Callable[[Flask, list[int], dict[str, dict[str, str]], int], dict[str, Any]]


def _member(app: Flask, members: list[int], headers: dict[str, dict[str, str]], number: int) -> dict[str, Any]:
    member_id = members[number % len(members)]
    return EnvironBuilder(path=f"/api/v1/members/{member_id}", headers=headers["service"]).get_environ()


def _status(app: Flask, members: list[int], headers: dict[str, dict[str, str]], number: int) -> dict[str, Any]:
    member_id = members[number % len(members)]
    return EnvironBuilder(path=f"/api/v1/members/{member_id}/status", headers=headers["service"]).get_environ()


def _purchase(app: Flask, members: list[int], headers: dict[str, dict[str, str]], number: int) -> dict[str, Any]:
    body = till_purchase(STORE, f"P-{secrets.token_hex(6)}-{number}", members[number % len(members)])
    return EnvironBuilder(path="/api/v1/purchases", method="POST", json=body, headers=headers["till"]).get_environ()


def _crossing(app: Flask, members: list[int], headers: dict[str, dict[str, str]], number: int) -> dict[str, Any]:
    """A purchase of 110 points by a member below 100: it crosses the default program's threshold (the
    10 € voucher issued, its 100 points debited) and, the member's first time, the VIP tier (a card
    queued). Each request names another member: with this route, ``main`` seeds at least one member
    per request."""
    body = till_purchase(STORE, f"X-{secrets.token_hex(6)}-{number}", members[number % len(members)])
    body["total"], body["lines"] = "110.00", [{"sku": "SKU-3", "category": "home", "quantity": 1, "unit_price": "110.00"}]
    return EnvironBuilder(path="/api/v1/purchases", method="POST", json=body, headers=headers["till"]).get_environ()


ROUTES: dict[str, tuple[str, Build]] = {
    "member": ("GET /api/v1/members/{id} (service)", _member),
    "status": ("GET /api/v1/members/{id}/status (service)", _status),
    "purchase": ("POST /api/v1/purchases (till)", _purchase),
    "crossing": ("POST /api/v1/purchases, voucher + VIP (till)", _crossing),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_request", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="requests timed, then profiled, per route (default 500)")
    parser.add_argument("--routes", nargs="+", choices=sorted(ROUTES), default=list(ROUTES), help="routes (default: all)")
    parser.add_argument("--database", default=DATABASE, help=f"the database to drop and recreate (default {DATABASE})")
    parser.add_argument("--members", type=int, default=1000, help="members seeded (default 1000)")
    parser.add_argument("--frames", type=int, default=30, help="heaviest frames listed per route (default 30)")
    parser.add_argument("--tree", action="store_true", help="also print each route's call tree")
    options = parser.parse_args(argv)

    started = time.monotonic()
    seeded = max(options.members, WARM_UP + 2 * options.requests) if "crossing" in options.routes else options.members
    database = stack.prepare_database(stack.recreate_database(options.database), members=seeded, store_code=STORE)
    print(f"database {options.database}: {database.member_count} members, ready in {time.monotonic() - started:.1f} s")
    app = create_app({"LOYALTY_DATABASE_URL": database.url, "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32)})
    _silence_request_log()
    client = app.test_client()
    headers = {
        "till": _bearer(client, database.till.client_id, database.till.client_secret),
        "service": _bearer(client, database.service.client_id, database.service.client_secret),
    }
    members = list(range(database.first_member_id, database.first_member_id + database.member_count))
    statements = _StatementCounter(app)
    print(f"{'route':<45} {'cpu ms':>7} {'wall ms':>8} {'stmts':>6}")
    profiles: list[tuple[str, Profiler]] = []
    for key in options.routes:
        name, build = ROUTES[key]
        number = iter(range(10**9))
        _serve(app, [build(app, members, headers, next(number)) for _ in range(WARM_UP)])
        timed = [build(app, members, headers, next(number)) for _ in range(options.requests)]
        statements.count = 0
        cpu, wall = time.process_time(), time.perf_counter()
        _serve(app, timed)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        per_request = statements.count / options.requests
        print(f"{name:<45} {cpu * 1000 / options.requests:7.2f} {wall * 1000 / options.requests:8.2f} {per_request:6.1f}")
        profiled = [build(app, members, headers, next(number)) for _ in range(options.requests)]
        profiler = Profiler(interval=0.0002)
        with _on_cpu_time(), profiler:
            _serve(app, profiled)
        profiles.append((name, profiler))
    for name, profiler in profiles:
        print(f"\n=== {name}: heaviest frames, own time ===")
        flat = profiler.output(ConsoleRenderer(flat=True, short_mode=True, time="percent_of_total"))
        print("\n".join(flat.splitlines()[: options.frames + 6]))
        if options.tree:
            print(profiler.output(ConsoleRenderer(time="percent_of_total", short_mode=True)))
    app.extensions["loyalty.engine"].dispose()
    return 0


@contextmanager
def _on_cpu_time() -> Iterator[None]:
    """Samples weighed by this thread's CPU time rather than wall time: the time spent waiting for
    PostgreSQL (or for the other processes of a busy machine) does not count. pyinstrument has no
    option for it; its sampler takes a clock function (``timer_func``), as its own tests do."""
    sampler = get_stack_sampler()
    sampler.timer_func = time.thread_time
    try:
        yield
    finally:
        sampler.timer_func = None


def _serve(app: Flask, environs: Iterable[dict[str, Any]]) -> None:
    """Call the WSGI application with each environ, read the answer; any answer but 2xx/304 fails."""
    answered: list[str] = []

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> Callable[[bytes], object]:
        answered.append(status)
        return io.BytesIO().write

    for environ in environs:
        body = app.wsgi_app(environ, start_response)  # type: ignore[arg-type]
        try:
            content = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        status = answered.pop()
        if not (status.startswith("2") or status.startswith("304")):
            raise RuntimeError(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} answered {status}: {content[:500]!r}")


def _silence_request_log() -> None:
    """The request log's JSON lines (formatted as in production) go to the null device, not the screen."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and isinstance(handler.formatter, JsonFormatter):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (open for the process's life)


class _StatementCounter:
    """Counts the statements the application's engine sends."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        event.listen(app.extensions["loyalty.engine"], "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def _bearer(client: Any, client_id: str, client_secret: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"client_id": client_id, "client_secret": client_secret})
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


if __name__ == "__main__":
    sys.exit(main())
