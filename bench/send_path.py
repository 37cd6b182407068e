"""The send path: messages queued through the real compose path, then delivered over SMTP to a local server.

``python -m bench.send_path [--messages 2000] [--database sqlite postgresql]``. For each database (a temporary
SQLite file; the PostgreSQL database ``loyalty_bench_send``, dropped and created again), it migrates, loads the
default program, seeds members who consented to email, then:

1. queues one near-threshold reminder per member with ``compose.queue`` (rendered, stored with its in-app copy),
   in transactions of 100;
2. runs ``deliver_due`` batch after batch until nothing is due, with the real ``SmtpChannel`` talking to an
   aiosmtpd server in another process (it accepts every message and counts them).

It prints messages/s for both phases, the SMTP send time per message and the time from the start of delivery
to each message's ``sent_at`` (p50/p95/p99), and checks that every message is ``sent``, its in-app copy
``delivered``, and that the server received as many messages. Exits 1 on a failed check.

The clock starts at 12:00 in Paris on a weekday (outside quiet hours) and runs at the wall clock's pace, so
the pressure rules judge every message as they would at that hour and ``sent_at`` is real time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.migrate import upgrade
from bench import stack
from loyalty.db import make_engine, session_scope
from loyalty.members.models import Member
from loyalty.program.operations import read_program_file
from notifications.channels.base import Delivery, Envelope
from notifications.channels.email import SmtpChannel
from notifications.messages import compose
from notifications.messages.links import Links
from notifications.messages.models import Message
from notifications.messages.tasks import deliver_due
from notifications.program import load_program
from notifications.runtime import Runtime

DATABASE = "loyalty_bench_send"
HOST = "127.0.0.1"
#: 12:00 in Paris, a Wednesday: no quiet hours, no blackout.
START = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
BATCH = 100
CONTEXT = {
    "threshold": 100,
    "reward": {"name": "10 € voucher", "description": "10 € off your next purchase, in store or online."},
    "points": {"at_entry": 92},
}


class Sink:
    """aiosmtpd handler: accepts every message and counts it."""

    def __init__(self, received: Any) -> None:
        self.received = received

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.received.get_lock():
            self.received.value += 1
        return "250 Message accepted"


def serve_smtp(port: int, received: Any, ready: Any, stop: Any) -> None:
    """The SMTP server's process: serve until told to stop."""
    controller = Controller(Sink(received), hostname=HOST, port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@dataclass(frozen=True)
class SmtpServer:
    port: int
    pid: int
    #: Messages received so far (a shared counter).
    received: Any


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd server in another process, until the block ends."""
    context = multiprocessing.get_context("spawn")
    received, ready, stop = context.Value("i", 0), context.Event(), context.Event()
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = int(probe.getsockname()[1])
    process = context.Process(target=serve_smtp, args=(port, received, ready, stop), daemon=True)
    process.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the SMTP server did not start")
        yield SmtpServer(port=port, pid=int(process.pid or 0), received=received)
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.kill()


class RunningClock:
    """:data:`START`, moving at the wall clock's pace from the moment it is made."""

    def __init__(self) -> None:
        self._started = time.perf_counter()

    def now(self) -> datetime:
        return START + timedelta(seconds=time.perf_counter() - self._started)


class TimedChannel:
    """The SMTP channel, timing each send."""

    def __init__(self, channel: SmtpChannel) -> None:
        self.channel = channel
        self.name = channel.name
        self.seconds: list[float] = []

    def send(self, envelope: Envelope) -> Delivery:
        started = time.perf_counter()
        try:
            return self.channel.send(envelope)
        finally:
            self.seconds.append(time.perf_counter() - started)


class CpuMeter:
    """CPU seconds used by this process, the SMTP server and the database's backends (PostgreSQL)."""

    def __init__(self, server: SmtpServer, url: str) -> None:
        self.server = server
        self.url = url

    def read(self) -> dict[str, dict[int, float]]:
        sides = {"app": {0: time.process_time()}, "smtp server": stack.cpu_seconds([self.server.pid])}
        if self.url.startswith("postgresql"):
            sides["postgres"] = stack.cpu_seconds(stack.backend_pids(self.url))
        return sides

    @staticmethod
    def used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        """Seconds per side between two readings (a backend opened meanwhile counts from zero)."""
        return {
            side: sum(seconds - before[side].get(pid, 0.0) for pid, seconds in after[side].items()) for side in after
        }


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    cpu_s: dict[str, float]

    def line(self, messages: int) -> str:
        cpu = ", ".join(f"{side} {seconds * 1000 / messages:.2f}" for side, seconds in self.cpu_s.items() if seconds)
        return f"  {self.name:<44} {messages / self.seconds:7.1f} messages/s   CPU ms/message: {cpu}"


@dataclass(frozen=True)
class Result:
    database: str
    messages: int
    phases: list[Phase]
    smtp_ms: list[float]
    to_sent_ms: list[float]
    failures: list[str]

    def lines(self) -> list[str]:
        return [
            f"{self.database}: {self.messages} messages",
            *(phase.line(self.messages) for phase in self.phases),
            f"  SMTP send per message       {_percentiles(self.smtp_ms)}",
            f"  delivery start -> sent_at   {_percentiles(self.to_sent_ms)}",
            *(f"  FAILED: {failure}" for failure in self.failures),
        ]


def _percentiles(values: Sequence[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49]:8.1f} ms   p95 {cuts[94]:8.1f} ms   p99 {cuts[98]:8.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    options = parser.parse_args(argv)
    results = []
    with smtp_server() as server, tempfile.TemporaryDirectory(prefix="loyalty-send-") as directory:
        for database in options.database:
            url = (
                f"sqlite:///{Path(directory) / 'send.db'}"
                if database == "sqlite"
                else stack.recreate_database(DATABASE)
            )
            before = server.received.value
            result = run(database, url, options.messages, server)
            if server.received.value - before != options.messages:
                result.failures.append(f"the SMTP server received {server.received.value - before} messages")
            results.append(result)
            print("\n".join(result.lines()), flush=True)
    return 1 if any(result.failures for result in results) else 0


def run(database: str, url: str, count: int, server: SmtpServer) -> Result:
    """Prepare ``url``, queue ``count`` messages, deliver them all; the figures and failed checks."""
    upgrade(url)
    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    channel = TimedChannel(SmtpChannel(f"smtp://{HOST}:{server.port}", "Loyalty <loyalty@bench.invalid>"))
    meter = CpuMeter(server, url)
    clock = RunningClock()
    runtime = Runtime(
        channels={"email": channel},
        links=Links(base_url="https://loyalty.bench.invalid", secret=secrets.token_urlsafe(32)),
        app_url="https://app.bench.invalid",
    )
    try:
        with session_scope(sessions) as session:
            load_program(session, read_program_file(None), now=clock.now())
        _seed_members(sessions, count, clock.now())
        queued = _phase(
            "queue (compose.queue, 100 per transaction)", meter, lambda: _queue_all(sessions, runtime, clock)
        )
        delivery_start = clock.now()
        delivered = _phase(
            "deliver (deliver_due over SMTP, 100 a batch)", meter, lambda: _deliver_all(sessions, runtime, clock)
        )
        channel.channel.close()
        to_sent, failures = _check(sessions, count, delivery_start)
    finally:
        engine.dispose()
    smtp_ms = [seconds * 1000 for seconds in channel.seconds]
    return Result(database, count, [queued, delivered], smtp_ms, to_sent, failures)


def _phase(name: str, meter: CpuMeter, action: Callable[[], None]) -> Phase:
    before, started = meter.read(), time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return Phase(name, seconds, CpuMeter.used(before, meter.read()))


def _deliver_all(sessions: sessionmaker[Session], runtime: Runtime, clock: RunningClock) -> None:
    while deliver_due(sessions, runtime, clock=clock.now, limit=BATCH):
        pass


def _seed_members(sessions: sessionmaker[Session], count: int, now: datetime) -> None:
    """Members as enrolment makes them, who consented to email, 8 points from the 100-point threshold."""
    rows = [
        {
            "email": f"member{number}@bench.invalid",
            "first_name": "Member",
            "last_name": f"Number {number}",
            "card_number": f"29{number:014d}",
            "locale": "fr-FR",
            "timezone": "Europe/Paris",
            "consent_email": True,
            "consent_sms": False,
            "consent_push": False,
            "preferred_channel": "email",
            "referral_code": f"B{number:07d}",
            "points_balance": 92,
            "pending_points": 0,
            "lifetime_points": 92,
            "tier_code": "member",
            "tier_since": now,
            "purchase_count": 1,
            "enrolled_at": now,
            "enrolled_md": now.month * 100 + now.day,
            "updated_at": now,
        }
        for number in range(1, count + 1)
    ]
    with session_scope(sessions) as session:
        session.execute(insert(Member), rows)


def _queue_all(sessions: sessionmaker[Session], runtime: Runtime, clock: RunningClock) -> None:
    with sessions() as session:
        ids = list(session.scalars(select(Member.id).order_by(Member.id)))
    for start in range(0, len(ids), BATCH):
        with session_scope(sessions) as session:
            members = session.scalars(select(Member).where(Member.id.in_(ids[start : start + BATCH])))
            for member in members:
                compose.queue(
                    session,
                    runtime,
                    compose.Request(
                        member=member,
                        template_key="near_threshold_reminder",
                        channels=["email"],
                        is_marketing=True,
                        key=f"bench.{member.id}",
                        context=CONTEXT,
                        scenario_key="near_threshold",
                    ),
                    now=clock.now(),
                )


def _check(sessions: sessionmaker[Session], count: int, delivery_start: datetime) -> tuple[list[float], list[str]]:
    """The time from the start of delivery to each ``sent_at`` (ms), and what went wrong."""
    with sessions() as session:
        by_status = dict(
            session.execute(
                select(Message.channel, func.count())
                .where(Message.status.in_(("sent", "delivered")))
                .group_by(Message.channel)
            ).all()
        )
        sent_at = session.scalars(select(Message.sent_at).where(Message.channel == "email", Message.status == "sent"))
        to_sent = [(at - delivery_start).total_seconds() * 1000 for at in sent_at]
    failures = []
    if by_status.get("email", 0) != count:
        failures.append(f"{by_status.get('email', 0)} emails sent, not {count}")
    if by_status.get("in_app", 0) != count:
        failures.append(f"{by_status.get('in_app', 0)} in-app copies delivered, not {count}")
    return to_sent, failures


if __name__ == "__main__":
    raise SystemExit(main())
