"""The stack under load: a fresh PostgreSQL database with seeded members and API clients, and gunicorn.

Everything listens on 127.0.0.1. :func:`gunicorn` stops its server on the way out, error or not.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
from flask import Flask
from psycopg import sql
from sqlalchemy import Engine, text

from app import create_app
from app.auth.clients import ClientCredentials

REPO = Path(__file__).resolve().parent.parent
SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
#: A busy shared machine (load average above 15) has taken more than 30 s to start gunicorn and import the app.
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0

#: Members as enrolment makes them, in one statement: every NOT NULL column, unique emails, card numbers
#: and referral codes, the entry tier. The card numbers are unique 16-digit numbers in the store range,
#: not Luhn-checked: the benchmark names members by id.
SEED_MEMBERS = text(
    """
    INSERT INTO members (email, first_name, last_name, card_number, locale, timezone,
                         consent_email, consent_sms, consent_push, preferred_channel, referral_code,
                         points_balance, pending_points, lifetime_points, tier_code, tier_since,
                         purchase_count, enrolled_at, enrolled_md, updated_at)
    SELECT 'member' || n || '@bench.example', 'Member', 'Number ' || n, '29' || lpad(n::text, 14, '0'),
           'fr-FR', 'Europe/Paris', n % 2 = 0, n % 3 = 0, n % 5 = 0, 'email', 'B' || lpad(n::text, 7, '0'),
           0, 0, 0, entry.code, enrolled.at, 0, enrolled.at,
           extract(month FROM enrolled.at AT TIME ZONE 'UTC') * 100 + extract(day FROM enrolled.at AT TIME ZONE 'UTC'),
           enrolled.at
    FROM generate_series(1, :count) AS n
    CROSS JOIN (SELECT code FROM tiers ORDER BY rank LIMIT 1) AS entry
    CROSS JOIN LATERAL (SELECT now() - n * :spacing_s * interval '1 second' AS at) AS enrolled
    """
)
#: The first line of each seeded member's tier history, as enrolment writes it.
SEED_TIER_HISTORY = text(
    """
    INSERT INTO tier_changes (member_id, from_code, to_code, reason, qualifying_points, changed_at)
    SELECT id, NULL, tier_code, 'enrolment', 0, enrolled_at FROM members
    """
)


@dataclass(frozen=True)
class SeededDatabase:
    url: str
    first_member_id: int
    member_count: int
    till: ClientCredentials
    service: ClientCredentials
    #: Seconds the member seed took (the tier history included).
    seed_s: float


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn's process model: ``threads > 1`` selects the gthread worker, else the sync one.

    ``keep_alive_s`` outlasts the load's drain, when connections wait idle for the last answers.
    """

    workers: int
    threads: int
    keep_alive_s: int = 10

    def arguments(self) -> list[str]:
        worker_class = "app.serving.ThreadWorker" if self.threads > 1 else "sync"
        return [
            "--workers", str(self.workers), "--threads", str(self.threads), "--worker-class", worker_class,
            "--keep-alive", str(self.keep_alive_s),
        ]  # fmt: skip

    def __str__(self) -> str:
        kind = f"gthread, {self.threads} threads each" if self.threads > 1 else "sync"
        return f"{self.workers} workers ({kind})"


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def worker_pids(self) -> list[int]:
        """The master and its workers."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [self.pid, *map(int, children)]

    def token(self, credentials: ClientCredentials) -> str:
        """An access token for an API client, from ``POST /auth/token``."""
        body = json.dumps({"client_id": credentials.client_id, "client_secret": credentials.client_secret})
        request = urllib.request.Request(
            self.url + "/api/v1/auth/token", data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return str(json.load(answer)["access_token"])


def recreate_database(name: str) -> str:
    """Drop and create database ``name`` on the local server; its SQLAlchemy URL."""
    with psycopg.connect(SERVER_DSN, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def prepare_database(
    url: str, *, members: int, store_code: str, enrolled_within: timedelta | None = None
) -> SeededDatabase:
    """Set the database up as an operator does (``loyalty init``, ``loyalty create-client``: migrations,
    the default program, a till of ``store_code`` and a service), then seed ``members`` members,
    enrolled a minute apart back from now, or evenly over ``enrolled_within``."""
    app = create_app({"LOYALTY_DATABASE_URL": url, "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32)})
    _command(app, "init")
    till = _new_client(app, "bench-till", "--role", "till", "--store", store_code)
    service = _new_client(app, "bench-service", "--role", "service")
    engine: Engine = app.extensions["loyalty.engine"]
    try:
        started = time.monotonic()
        with engine.begin() as connection:
            spacing_s = 60.0 if enrolled_within is None else enrolled_within.total_seconds() / max(members, 1)
            connection.execute(SEED_MEMBERS, {"count": members, "spacing_s": spacing_s})
            connection.execute(SEED_TIER_HISTORY)
            first_id, count = connection.execute(text("SELECT min(id), count(*) FROM members")).one()
        seed_s = time.monotonic() - started
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return SeededDatabase(
        url=url, first_member_id=first_id, member_count=count, till=till, service=service, seed_s=seed_s
    )


def _command(app: Flask, *arguments: str) -> str:
    """Run ``flask loyalty <arguments>`` in process; its standard output."""
    result = app.test_cli_runner().invoke(args=["loyalty", *arguments])
    if result.exit_code != 0:
        raise RuntimeError(f"loyalty {' '.join(arguments)} failed: {result.output}") from result.exception
    return str(result.stdout)


def _new_client(app: Flask, name: str, *options: str) -> ClientCredentials:
    credentials = json.loads(_command(app, "create-client", name, *options).strip().splitlines()[-1])
    return ClientCredentials(client_id=credentials["client_id"], client_secret=credentials["client_secret"])


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving clients of the database at ``url``."""
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(SERVER_DSN) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [row[0] for row in rows]


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU time used so far by each process still alive, from ``/proc``."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def run_queue_wait_s(pid: int) -> float | None:
    """Seconds the threads of ``pid`` have spent runnable but waiting for a core so far (the kernel's
    ``/proc/PID/task/*/schedstat``); None when the process is gone or the kernel keeps no such figure."""
    try:
        return sum(int((task / "schedstat").read_text().split()[1]) for task in Path(f"/proc/{pid}/task").iterdir()) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def load_generator_priority() -> None:
    """Run the calling process (wrk, between fork and exec) in the real-time FIFO class at the lowest
    priority, so that it runs as soon as an answer wakes it instead of queueing for a core behind the
    gunicorn workers and PostgreSQL: its latencies are then the server's, not its own wait (see
    docs/benchmarks.md, "/metrics beside wrk"). wrk uses a few percent of a core. Without the
    privilege (CAP_SYS_NICE) it stays in the normal class, and the bench's "waited for a core" figure
    shows what that costs."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except PermissionError:
        pass


def softirq_threads() -> list[int]:
    """The kernel's per-core ``ksoftirqd`` threads, which take over the loopback's receive work when it
    is raised while a core is busy: an answer captured as it leaves the server waits in them, for a
    core, before it reaches wrk's socket."""
    return [int(task.name) for task in Path("/proc").iterdir() if task.name.isdigit() and _process_name(task).startswith("ksoftirqd/")]


def _process_name(task: Path) -> str:
    try:
        return (task / "comm").read_text()
    except OSError:
        return ""


@contextmanager
def prompt_softirqs() -> Iterator[None]:
    """While the block runs, the ``ksoftirqd`` threads in the real-time FIFO class, as wrk (a real
    network card's receive work runs before any process, on interrupt); their previous class after.
    Without the privilege they are left as they are (the bench prints how long they waited)."""
    saved: dict[int, tuple[int, os.sched_param]] = {}
    for pid in softirq_threads():
        try:
            saved[pid] = (os.sched_getscheduler(pid), os.sched_getparam(pid))
            os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))
        except (PermissionError, ProcessLookupError):
            saved.pop(pid, None)
    try:
        yield
    finally:
        for pid, (policy, parameter) in saved.items():
            try:
                os.sched_setscheduler(pid, policy, parameter)
            except ProcessLookupError:
                pass


def machine_busy_seconds() -> float:
    """CPU time all processors have spent busy since boot (every process, ours or not), from ``/proc/stat``."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@contextmanager
def gunicorn(
    app_spec: str, settings: ServerSettings, environment: Mapping[str, str], log_path: Path
) -> Iterator[Server]:
    """Serve ``app_spec`` with gunicorn on a free port of 127.0.0.1 until the block ends."""
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *settings.arguments(), app_spec]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **environment}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        server = Server(url=f"http://127.0.0.1:{port}", pid=process.pid)
        _wait_until_ready(process, server, log_path)
        yield server
    finally:
        _stop(process)


@contextmanager
def worker(environment: Mapping[str, str], log_path: Path) -> Iterator[int]:
    """The scheduler process (``loyalty scheduler``: the outbox consumers, journeys, messages) until the
    block ends; yields its pid."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "loyalty", "scheduler"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **environment}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process.pid
    finally:
        _stop(process)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its direct children."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *map(int, children)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(process: subprocess.Popen[bytes], server: Server, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {READY_TIMEOUT_S:.0f} s; see {log_path}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Graceful stop (SIGTERM to the master), then SIGKILL to whatever is left of its process group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=STOP_TIMEOUT_S)
