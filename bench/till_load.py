"""Till load benchmark: purchases at full speed, then balance reads and status documents, against
gunicorn + PostgreSQL, with the scheduler process running the outbox consumers beside it.

``make bench`` or ``python -m bench.till_load [--duration 30]``. Prints requests/s and p50/p95/p99 per
phase, the CPU each side used, the machine's ceiling (a bare Flask app under the same gunicorn), what
``/metrics`` said of each phase beside wrk and the loopback's packets (tcpdump), and checks the ledger
and the purchase count afterwards. Exits 1 on any non-2xx answer or failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType

from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from bench import metrics_scrape, stack, wire_latency
from bench.consumer_lag import LagSampler
from bench.statements import statements_per_request
from loyalty.db import make_engine, session_scope
from loyalty.ledger.operations import members_out_of_balance
from loyalty.receipts.models import Purchase

DATABASE = "loyalty_bench"
STORE = "S001"
WRK_DIR = Path(__file__).resolve().parent / "wrk"
RESULTS = Path(__file__).resolve().parent / "results"
#: After the window, the time wrk waits for the answers still in flight.
DRAIN_S = 5
WARM_UP_S = 3
#: The seeded members enrolled over the same span whatever their number (as 100,000 a minute apart):
#: a larger seed is a larger population, not an older one. A minute apart, a million reach back 694
#: days, and the scheduler's first-purchase nudge enters the 870,000 enrolled over 90 days ago who never
#: bought, whose messages the worker then sends, 50 a second, all through the run.
ENROLLED_WITHIN = timedelta(minutes=100_000)
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Phase:
    name: str
    window_s: float
    connections: int
    answers_2xx: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    #: wrk's own p99, its histogram after its correction for coordinated omission (bench/wrk/common.lua).
    corrected_p99_ms: float
    #: CPU seconds used during the phase by the gunicorn processes, the PostgreSQL backends, wrk, and
    #: everything else on the machine (a figure far from 0 means the run was disturbed).
    cpu_s: dict[str, float]
    #: Seconds wrk's threads were runnable but waited for a core (their wait is in wrk's latency only).
    wrk_waited_s: float | None
    #: Seconds the kernel's softirq threads waited for a core: an answer they carry to wrk's socket
    #: after the capture saw it leave waits with them (in wrk's latency only).
    softirq_waited_s: float | None

    @property
    def wrk_runtime_s(self) -> float:
        return self.window_s + DRAIN_S

    @property
    def requests_per_s(self) -> float:
        return (self.answers_2xx + self.failures) / self.window_s

    def row(self, ceiling: Phase | None = None, statements: int | None = None) -> str:
        requests = max(1, self.answers_2xx + self.failures)
        per_request = [self.cpu_s[side] * 1000 / requests for side in ("app", "postgres", "worker", "wrk")]
        other = self.cpu_s["other"] / (CORES * (self.window_s + DRAIN_S))
        return (
            f"{self.name:<30} {self.requests_per_s:8.1f} {self.p50_ms:7.1f} {self.p95_ms:7.1f} {self.p99_ms:7.1f}"
            f" {self.failures:7d} {''.join(f' {ms:8.2f}' for ms in per_request)} {other:8.0%}"
            f" {CORES * 1000 / max(sum(per_request), 1e-9):9.0f}"
            f" {'-' if ceiling is None else f'{self.requests_per_s / ceiling.requests_per_s:.3f}':>8}"
            f" {'' if statements is None else statements:>5}"
        )


HEADER = (
    f"{'phase':<30} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'non-2xx':>7}"
    f" {'app cpu':>8} {'pg cpu':>8} {'wrkr cpu':>8} {'wrk cpu':>8} {'other':>8} {'cpu-bound':>9} {'/ceiling':>8} {'stmts':>5}"
)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv, prog="python -m bench.till_load", description=__doc__, duration=30, wire=True)
    if options.wire and not wire_latency.available():
        print("tcpdump is not installed: apt-get install -y tcpdump (or --no-wire)", file=sys.stderr)
        return 2
    settings, database, environment = prepare(options, options.database or DATABASE)
    members = [str(database.first_member_id), str(database.member_count)]
    phases: list[Phase] = []
    url = database.url
    environment = {**environment, **metrics_scrape.environment(RESULTS)}
    #: What /metrics said of each phase, beside wrk's figures.
    scraped: list[str] = []
    with (
        stack.worker(environment, RESULTS / "worker.log") as worker_pid,
        stack.gunicorn("wsgi:app", settings, environment, RESULTS / "gunicorn-app.log") as server,
    ):
        till, service = server.token(database.till), server.token(database.service)
        purchases_url, members_url = server.url + "/api/v1/purchases", server.url

        def phase(name: str, script: str, target: str, arguments: list[str], connections: int, duration: int) -> Phase:
            capture = RESULTS / f"{re.sub(r'[^a-z0-9]+', '-', f'{name} {connections}'.lower()).strip('-')}.pcap"
            with (
                metrics_scrape.watch(server.url, f"{name} @{connections}") as watched,
                metrics_scrape.wire(server.url, capture, enabled=options.wire and watched is not None) as wire,
            ):
                done = run_phase(
                    server, f"{name} @{connections}", script, target, arguments,
                    duration_s=duration, connections=connections, database_url=url, worker_pid=worker_pid,
                )  # fmt: skip
            if watched is not None:
                scraped.append(watched.compare(done, wire))
            return done

        warm_up = phase("warm-up", "members.lua", members_url, [service, *members], options.connections, WARM_UP_S)
        lag = LagSampler(url)
        with lag:
            write = phase("POST /purchases", "purchases.lua", purchases_url, [till, *members, STORE, "R"], options.connections, options.duration)
        drained_s = lag.drain()
        events_per_worker_cpu_s = lag.phase_events / max(write.cpu_s["worker"], 1e-6)
        lag.close()
        for connections, duration in ((options.connections, options.duration), (2, max(5, options.duration // 2))):
            if connections == 2:
                phases.append(phase("POST /purchases", "purchases.lua", purchases_url, [till, *members, STORE, "Q"], 2, duration))
            phases.append(phase("GET /members/{id}", "members.lua", members_url, [service, *members], connections, duration))
            phases.append(phase("GET /members/{id}/status", "members.lua", members_url, [service, *members, "/status"], connections, duration))
    phases.insert(0, write)
    with stack.gunicorn("bench.ceiling_app:app", settings, {}, RESULTS / "gunicorn-ceiling.log") as server:
        # The same bodies; no token (the bare app reads none), no database.
        ceilings = {
            connections: run_phase(
                server, f"ceiling: POST /echo @{connections}", "purchases.lua", server.url + "/echo",
                ["-", *members, STORE, "C"], duration_s=duration, connections=connections, database_url=None,
            )
            for connections, duration in ((options.connections, options.duration), (2, max(5, options.duration // 2)))
        }  # fmt: skip

    checks_pass = _verify(database.url, [done for done in phases if done.name.startswith("POST /purchases")])
    statements = statements_per_request(database, STORE)
    counts = {
        phase_name: len([sql for sql in statements[request] if sql != "COMMIT"])
        for phase_name, request in (
            ("POST /purchases", "POST /api/v1/purchases"),
            ("GET /members/{id}", "GET /api/v1/members/{id}"),
            ("GET /members/{id}/status", "GET /api/v1/members/{id}/status"),
        )
    }
    print()
    print("cpu: milliseconds of CPU per request (gunicorn, PostgreSQL backends, the consumers' worker, wrk); other:"
          " the machine's CPU taken by other processes (far from 0% = a disturbed run); cpu-bound: the requests/s"
          " all cores would serve at that CPU cost; /ceiling: requests/s over the bare app's at the same"
          " connections; stmts: SQL statements before COMMIT")
    print(HEADER)
    for done in (*phases, *ceilings.values()):
        print(done.row(ceilings[done.connections], counts.get(done.name.rsplit(" @", 1)[0])))
    print("/metrics (the application's own request counter and latency histogram) beside wrk, per phase:")
    print("\n".join(scraped))
    print(lag.summary(drained_s))
    print(f"outbox consumers' capacity: {events_per_worker_cpu_s:.0f} events per second of the worker's CPU"
          f" ({events_per_worker_cpu_s / max(lag.phase_events / lag.phase_s, 1e-6):.1f}× the rate the till produced)")
    ceiling = ceilings[options.connections]
    by_name = {done.name: done for done in phases}
    read, status = by_name[f"GET /members/{{id}} @{options.connections}"], by_name[f"GET /members/{{id}}/status @{options.connections}"]
    print(f"till path / ceiling: {write.requests_per_s / ceiling.requests_per_s:.1%}"
          f" (reads / ceiling: {read.requests_per_s / ceiling.requests_per_s:.1%};"
          f" status document / ceiling: {status.requests_per_s / ceiling.requests_per_s:.1%})")
    return finish([warm_up, *phases, *ceilings.values()], checks_pass, statements)


def parse_options(
    argv: list[str] | None, *, prog: str, description: str | None, duration: int, wire: bool = False
) -> argparse.Namespace:
    """The options of a load benchmark (``description``: its module docstring, of which the first
    paragraph is shown); ``wire``: it captures the loopback traffic unless told not to."""
    parser = argparse.ArgumentParser(prog=prog, description=(description or "").split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=duration, help=f"seconds of load per phase (default {duration})"
    )
    parser.add_argument("--members", type=int, default=100_000, help="members seeded (default 100000)")
    parser.add_argument("--database", help="the database to drop and recreate (default: the benchmark's own)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker; 1 = sync worker (default 4)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    if wire:
        parser.add_argument(
            "--no-wire", dest="wire", action="store_false",
            help="skip the loopback capture (tcpdump) timing each request by its packets beside wrk and /metrics",
        )  # fmt: skip
    return parser.parse_args(argv)


def prepare(
    options: argparse.Namespace, database_name: str
) -> tuple[stack.ServerSettings, stack.SeededDatabase, dict[str, str]]:
    """Check for wrk, set the database ``database_name`` up (default program, a till and a service, the
    members), and the server's settings and environment; a SIGTERM then ends the run cleanly."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        raise SystemExit(2)
    RESULTS.mkdir(exist_ok=True)
    settings = stack.ServerSettings(workers=options.workers, threads=options.threads)
    print(f"gunicorn: {settings}; wrk: 2 threads, {options.connections} connections, {options.duration} s per phase")
    started = time.monotonic()
    database = stack.prepare_database(
        stack.recreate_database(database_name), members=options.members, store_code=STORE, enrolled_within=ENROLLED_WITHIN
    )
    print(
        f"database {database_name}: default program, a till ({STORE}) and a service, {database.member_count}"
        f" members (seeded in {database.seed_s:.1f} s); ready in {time.monotonic() - started:.1f} s"
    )
    environment = {
        "LOYALTY_DATABASE_URL": database.url,
        "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "LOYALTY_DB_POOL_SIZE": str(options.threads),
        "LOYALTY_DB_MAX_OVERFLOW": "0",
    }
    return settings, database, environment


def finish(phases: list[Phase], checks_pass: bool, statements: dict[str, list[str]]) -> int:
    """Print the SQL of each request; the exit status: 1 on any non-2xx answer or failed check."""
    for name, issued_then_commit in statements.items():
        issued = [statement for statement in issued_then_commit if statement != "COMMIT"]
        print(f"{name}: {len(issued)} SQL statements, then {len(issued_then_commit) - len(issued)} COMMIT")
        for statement in issued_then_commit:
            print(f"    {statement}")
    failures = sum(phase.failures for phase in phases)
    if failures or not checks_pass:
        print(f"FAILED: {failures} non-2xx answers or socket errors; checks passed: {checks_pass}", file=sys.stderr)
        return 1
    return 0


def run_phase(
    server: stack.Server,
    name: str,
    script: str,
    url: str,
    script_arguments: list[str],
    *,
    duration_s: int,
    connections: int,
    database_url: str | None,
    worker_pid: int | None = None,
) -> Phase:
    """Load ``url`` with ``script`` for ``duration_s`` seconds; the CPU each side used meanwhile."""
    app_pids = server.worker_pids()
    worker_pids = stack.process_tree(worker_pid) if worker_pid else []
    backends = stack.backend_pids(database_url) if database_url else []
    before = stack.cpu_seconds(app_pids + backends + worker_pids)
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = stack.machine_busy_seconds()
    command = [
        "wrk", "--threads", "2", "--connections", str(connections),
        "--duration", f"{duration_s + DRAIN_S}s", "--timeout", f"{DRAIN_S + 5}s",
        "--script", str(WRK_DIR / script), url, "--", str(duration_s), *script_arguments,
    ]  # fmt: skip
    softirqs = stack.softirq_threads()
    softirqs_before = _run_queue_wait(softirqs)
    with stack.prompt_softirqs():
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=stack.load_generator_priority
        )
        wrk_waited_s = _run_queue_wait_until_exit(process, timeout_s=duration_s + DRAIN_S + 60)
    softirqs_after = _run_queue_wait(softirqs)
    completed = subprocess.CompletedProcess(command, process.returncode, *process.communicate())
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = stack.machine_busy_seconds() - busy_before
    if database_url:
        backends = sorted(set(backends) | set(stack.backend_pids(database_url)))
    after = stack.cpu_seconds(app_pids + backends + worker_pids)
    result_lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if completed.returncode != 0 or not result_lines:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    result = json.loads(result_lines[0].removeprefix("BENCH_RESULT "))
    failures = result["answers_other"] + result["socket_errors"] + result["timeouts"]
    if result["timed"] != result["answers_2xx"] + result["answers_other"]:
        raise RuntimeError(f"wrk timed {result['timed']} of the answers: the server must answer X-Request-ID back")
    if failures:
        print(f"{name}: {failures} failed requests\n{completed.stdout}", file=sys.stderr)

    def used(pids: list[int]) -> float:
        return sum(after[pid] - before.get(pid, 0.0) for pid in pids if pid in after)

    cpu_s = {"app": used(app_pids), "postgres": used(backends), "worker": used(worker_pids)}
    cpu_s["wrk"] = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
    cpu_s["other"] = max(0.0, busy - sum(cpu_s.values()))
    return Phase(
        name=name,
        window_s=duration_s,
        connections=connections,
        answers_2xx=result["answers_2xx"],
        failures=failures,
        p50_ms=result["p50_us"] / 1000,
        p95_ms=result["p95_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        corrected_p99_ms=result["corrected_p99_us"] / 1000,
        cpu_s=cpu_s,
        wrk_waited_s=wrk_waited_s,
        softirq_waited_s=None if softirqs_before is None or softirqs_after is None else softirqs_after - softirqs_before,
    )


def _run_queue_wait(pids: list[int]) -> float | None:
    """Seconds the threads of ``pids`` have waited for a core so far; None if one is unknown."""
    waits = [stack.run_queue_wait_s(pid) for pid in pids]
    return None if None in waits else sum(wait for wait in waits if wait is not None)


def _run_queue_wait_until_exit(process: subprocess.Popen[str], *, timeout_s: float) -> float | None:
    """Wait for wrk to exit (killed after ``timeout_s``); meanwhile sample the time its threads spent
    waiting for a core, and return the largest sample (the sum drops as wrk's threads exit before it
    does), None if the kernel keeps no such figure. wrk's output is a few lines: the pipes cannot
    fill meanwhile."""
    deadline, waited_s = time.monotonic() + timeout_s, None
    while True:
        try:
            process.wait(timeout=0.2)
            return waited_s
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise
        sample = stack.run_queue_wait_s(process.pid)
        if sample is not None:
            waited_s = max(sample, waited_s or 0.0)


def _verify(database_url: str, writes: list[Phase]) -> bool:
    """The ledger invariant, and one purchase recorded per 2xx answer of the write phases."""
    answers_2xx = sum(write.answers_2xx for write in writes)
    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(sessionmaker(engine)) as session:
            drifted = members_out_of_balance(session)
            purchases = session.scalar(select(func.count()).select_from(Purchase))
            upgrades = session.scalar(text("SELECT count(*) FROM tier_changes WHERE reason = 'upgrade'"))
            vouchers = session.scalar(text("SELECT count(*) FROM vouchers"))
    finally:
        engine.dispose()
    print(f"ledger invariant: {len(drifted)} members out of balance (members_out_of_balance returned {drifted[:5]})")
    print(f"purchases recorded: {purchases}; 2xx answers to POST /purchases: {answers_2xx}")
    print(f"on the way, purchases moved {upgrades} members up a tier and issued {vouchers} vouchers automatically")
    return not drifted and purchases == answers_2xx


def _exit_on_sigterm(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)


if __name__ == "__main__":
    sys.exit(main())
