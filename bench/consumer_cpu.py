"""The outbox consumers' CPU per event, in process: purchases and engagements recorded through the API
with no worker running, then the consumers applying the backlog, each timed apart.

``python -m bench.consumer_cpu [--purchases 2000] [--members 2000] [--database loyalty_bench_consumer_cpu]``.
Sets the database up as ``bench.till_load`` does (default program, a till, the members), records the
purchases (random members, baskets as the till benchmark's) and one engagement for every fifth, then
runs the consumers until they have caught up and prints, per consumer, the events it read and the CPU
of this process it took (the worker's part; PostgreSQL's is not counted), per event and per purchase.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app import create_app
from bench import stack
from loyalty.clock import FrozenClock
from loyalty.consumers import Consumer, Delivered, run_consumers
from notifications.bootstrap import CONSUMERS

DATABASE = "loyalty_bench_consumer_cpu"
STORE = "S001"
CATEGORIES = ("beauty", "grocery", "home", "fashion")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=2000, help="purchases recorded (default 2000)")
    parser.add_argument("--members", type=int, default=2000, help="members seeded (default 2000)")
    parser.add_argument("--database", default=DATABASE, help=f"the database to drop and recreate (default {DATABASE})")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the consumers' run to FILE")
    options = parser.parse_args(argv)
    logging.getLogger("loyalty.requests").setLevel(logging.WARNING)
    database = stack.prepare_database(stack.recreate_database(options.database), members=options.members, store_code=STORE)
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    app = create_app({"LOYALTY_DATABASE_URL": database.url, "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32), "LOYALTY_CLOCK": clock})
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"client_id": database.till.client_id, "client_secret": database.till.client_secret})
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}  # type: ignore[index]
    rng = random.Random(1)
    started = time.monotonic()
    for number in range(options.purchases):
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
        if number % 100 == 99:
            print(f"\r{number + 1} purchases recorded", end="", flush=True)
    print(f"\r{options.purchases} purchases recorded in {time.monotonic() - started:.1f} s")

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

    profile = cProfile.Profile() if options.profile else None
    begun, wall = time.process_time(), time.monotonic()
    if profile is not None:
        profile.enable()
    applied = run_consumers(app.extensions["loyalty.sessions"], [timed(consumer) for consumer in CONSUMERS], clock=clock.now)
    total, wall = time.process_time() - begun, time.monotonic() - wall
    if profile is not None:
        profile.disable()
        profile.dump_stats(options.profile)
    print(f"{'consumer':<18} {'events':>7} {'apply ms/event':>15} {'apply ms/purchase':>18}")
    for consumer in CONSUMERS:
        count = events[consumer.name]
        print(f"{consumer.name:<18} {count:7d} {cpu[consumer.name] * 1000 / max(count, 1):15.3f} {cpu[consumer.name] * 1000 / options.purchases:18.3f}")
    print(
        f"all: {applied} events read, {total:.2f} s of CPU ({total * 1000 / options.purchases:.2f} ms per purchase,"
        f" {total * 1000 / max(applied, 1):.3f} ms per event read, cursors and reads included) in {wall:.2f} s"
    )
    app.extensions["loyalty.engine"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
