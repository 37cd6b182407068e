"""The outbox consumers' CPU per purchase, in process: purchases recorded through the API, the
consumers run every few purchases as the worker finds them under the till's load, each side timed
apart, in this process and in PostgreSQL.

``python -m bench.consumer_cpu [--purchases 2000] [--members 2000] [--every 64] [--idle 200]
[--database loyalty_bench_consumer_cpu] [--profile FILE] [--worker RATE]``.

Sets the database up as ``bench.till_load`` does (default program, a till, the members), records the
purchases (random members, baskets as the till benchmark's) and, after every ``--every`` of them (64:
what the worker's half-second poll finds when the till records about 128 purchases a second; 0: once,
after the last), runs the consumers until they have caught up. Then it polls ``--idle`` times with
nothing to do, as the worker does between bursts. It prints, per consumer, the events it read and the
CPU of this process its ``apply`` took; then, per purchase, the CPU the consumers' rounds took in this
process (the worker's part: cursors, reads and decoding included) and in the PostgreSQL backends, the
backends' CPU while the purchases were recorded, and the CPU of one idle poll. The backends' figures
come from ``/proc`` (10 ms ticks: use a few thousand purchases).

``--worker RATE``: the consumers as the scheduler process meets them instead. The purchases are
recorded at ``RATE`` a second, at the real time, while ``loyalty scheduler`` runs beside, as
``bench.till_load`` starts it (its polls, its passes); once it has caught up, it prints the worker's
CPU per purchase (from ``/proc``, idle polls and passes included), the consumers' lag meanwhile, and
how many events a second of the worker's CPU applied.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import random
import secrets
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from app import create_app
from bench import stack
from bench.consumer_lag import LagSampler
from loyalty.clock import FrozenClock
from loyalty.consumers import Consumer, Delivered, run_consumers
from notifications.bootstrap import CONSUMERS

DATABASE = "loyalty_bench_consumer_cpu"
STORE = "S001"
CATEGORIES = ("beauty", "grocery", "home", "fashion")


class Meter:
    """CPU seconds of this process and of the database's backends, summed over the spans measured."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.process_s = 0.0
        self.backends_s = 0.0

    def measure(self, work: Callable[[], object]) -> None:
        pids = stack.backend_pids(self.database_url)
        backends, begun = stack.cpu_seconds(pids), time.process_time()
        work()
        self.process_s += time.process_time() - begun
        after = stack.cpu_seconds(pids)
        self.backends_s += sum(after[pid] - backends[pid] for pid in after if pid in backends)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=2000, help="purchases recorded (default 2000)")
    parser.add_argument("--members", type=int, default=2000, help="members seeded (default 2000)")
    parser.add_argument("--every", type=int, default=64, help="purchases between two runs of the consumers; 0: one run at the end (default 64)")
    parser.add_argument("--idle", type=int, default=200, help="polls timed with nothing to do (default 200)")
    parser.add_argument("--database", default=DATABASE, help=f"the database to drop and recreate (default {DATABASE})")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile (CPU time) of the consumers' runs to FILE")
    parser.add_argument("--worker", type=float, metavar="RATE", help="record RATE purchases a second beside the scheduler process and time it instead")
    options = parser.parse_args(argv)
    logging.getLogger("loyalty.requests").setLevel(logging.WARNING)
    database = stack.prepare_database(stack.recreate_database(options.database), members=options.members, store_code=STORE)
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    app = create_app({"LOYALTY_DATABASE_URL": database.url, "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32), "LOYALTY_CLOCK": clock})
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"client_id": database.till.client_id, "client_secret": database.till.client_secret})
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}  # type: ignore[index]
    rng = random.Random(1)

    cpu: dict[str, float] = defaultdict(float)
    events: dict[str, int] = defaultdict(int)

    def timed(consumer: Consumer) -> Consumer:
        def apply(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
            begun = time.process_time()
            consumer.apply(session, batch, now)
            session.flush()
            cpu[consumer.name] += time.process_time() - begun
            events[consumer.name] += len(batch)

        return Consumer(consumer.name, consumer.on, apply, consumer.batch_size)

    sessions = app.extensions["loyalty.sessions"]
    consumers = [timed(consumer) for consumer in CONSUMERS]
    profile = cProfile.Profile(time.process_time) if options.profile else None
    applied = 0

    def consume() -> None:
        nonlocal applied
        if profile is not None:
            profile.enable()
        applied += run_consumers(sessions, consumers, clock=clock.now)
        if profile is not None:
            profile.disable()

    def purchase(number: int) -> None:
        if options.worker:
            clock.set(datetime.now(UTC))
        else:
            clock.advance(timedelta(minutes=rng.choice((1, 5, 30))))
        lines = [
            {"sku": f"SKU-{rng.randint(1, 20000):05d}", "category": rng.choice(CATEGORIES), "quantity": 1, "unit_price": f"{rng.randint(1, 30)}.00"}
            for _ in range(rng.randint(1, 3))
        ]
        body = {
            "store_code": STORE, "receipt_no": f"CPU-{number}", "occurred_at": clock.now().isoformat(),
            "member_id": database.first_member_id + rng.randrange(database.member_count), "currency": "EUR",
            "total": f"{sum(int(line['unit_price'][:-3]) for line in lines)}.00", "channel": "store", "lines": lines,
        }  # fmt: skip
        response = client.post("/api/v1/purchases", json=body, headers=headers)
        assert response.status_code == 201, response.json

    if options.worker:
        environment = {"LOYALTY_DATABASE_URL": database.url, "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32)}
        with stack.worker(environment, Path(tempfile.gettempdir()) / f"{options.database}-worker.log") as pid:
            beside_worker(stack.process_tree(pid), database.url, options.purchases, options.worker, purchase)
        app.extensions["loyalty.engine"].dispose()
        return 0
    purchases, consumers_cpu, idle = Meter(database.url), Meter(database.url), Meter(database.url)
    every = options.every or options.purchases
    started = time.monotonic()
    for first in range(0, options.purchases, every):
        last = min(first + every, options.purchases)
        purchases.measure(lambda: [purchase(number) for number in range(first, last)])
        consumers_cpu.measure(consume)
        print(f"\r{last} purchases recorded and consumed", end="", flush=True)
    print(f"\r{options.purchases} purchases recorded and consumed, {every} at a time, in {time.monotonic() - started:.1f} s")
    idle.measure(lambda: [run_consumers(sessions, CONSUMERS, clock=clock.now) for _ in range(options.idle)])
    if profile is not None:
        profile.dump_stats(options.profile)

    print(f"{'consumer':<18} {'events':>7} {'apply ms/event':>15} {'apply ms/purchase':>18}")
    for consumer in CONSUMERS:
        count = events[consumer.name]
        print(f"{consumer.name:<18} {count:7d} {cpu[consumer.name] * 1000 / max(count, 1):15.3f} {cpu[consumer.name] * 1000 / options.purchases:18.3f}")
    per_purchase = 1000 / options.purchases
    print(
        f"consumers: {applied} events read ({applied / options.purchases:.2f} per purchase);"
        f" worker CPU {consumers_cpu.process_s * per_purchase:.2f} ms per purchase"
        f" ({consumers_cpu.process_s * 1000 / max(applied, 1):.3f} ms per event read, cursors, reads and decoding included),"
        f" PostgreSQL CPU {consumers_cpu.backends_s * per_purchase:.2f} ms per purchase"
    )
    print(
        f"purchases: PostgreSQL CPU {purchases.backends_s * per_purchase:.2f} ms per purchase recorded"
        f" (this process: {purchases.process_s * per_purchase:.2f} ms, the test client's request included)"
    )
    print(
        f"idle poll: {idle.process_s * 1000 / max(options.idle, 1):.2f} ms of worker CPU,"
        f" {idle.backends_s * 1000 / max(options.idle, 1):.2f} ms of PostgreSQL CPU"
    )
    app.extensions["loyalty.engine"].dispose()
    return 0


def beside_worker(pids: list[int], database_url: str, count: int, rate: float, purchase: Callable[[int], None]) -> None:
    """Once the worker has settled (its first pass), ``count`` purchases at ``rate`` a second, then
    the wait until the consumers have caught up; the worker's CPU meanwhile."""
    settled = stack.cpu_seconds(pids)
    while True:  # its first pass (maintenance, scans) done: under 20 ms of CPU in a second
        time.sleep(1.0)
        now = stack.cpu_seconds(pids)
        if sum(now.values()) - sum(settled.values()) < 0.02:
            break
        settled = now
    before, started = stack.cpu_seconds(pids), time.monotonic()
    with LagSampler(database_url) as lag:
        for number in range(count):
            time.sleep(max(0.0, started + number / rate - time.monotonic()))
            purchase(number)
    recorded_s = time.monotonic() - started
    drained_s = lag.drain()
    after = stack.cpu_seconds(pids)
    lag.close()
    worker_s = sum(after[pid] - before[pid] for pid in after if pid in before)
    print(f"{count} purchases recorded in {recorded_s:.1f} s ({count / recorded_s:.1f}/s) beside the scheduler process")
    print(lag.summary(drained_s))
    print(
        f"worker: {worker_s * 1000 / count:.2f} ms of CPU per purchase ({worker_s:.2f} s in all, its idle polls and"
        f" passes included); {lag.phase_events / max(worker_s, 1e-6):.0f} events applied per second of its CPU"
    )


if __name__ == "__main__":
    raise SystemExit(main())
