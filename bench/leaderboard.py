"""Leaderboard benchmark: a board of a million members in PostgreSQL, its top 10 and a member's own rank.

``python -m bench.leaderboard [--members 1000000] [--stores 50] [--repeat 20]``. Sets up the database
``loyalty_bench_leaderboard`` as ``bench.till_load`` does (migrations, the default program, the members),
seeds this month's scores of every member among all members and in one of ``--stores`` stores, and the
all-time ones, with 9 members in 10 opted in, then times
:func:`rewards.leaderboards.operations.read_board` (the top 10 and the caller's line) for members at
the top, in the middle and at the bottom of the board, and prints the plans of its queries
(``EXPLAIN (ANALYZE, BUFFERS)``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from bench import stack
from loyalty.db import make_engine
from loyalty.program.operations import get_settings
from rewards.leaderboards.operations import period_key, read_board

DATABASE = "loyalty_bench_leaderboard"
BOARD = "monthly-points"
#: One row per member and period in scope ``all``, and this month's in the member's store: points drawn
#: from a skewed distribution (many members with few points, many ties), the same on every run.
SEED_SCORES = text(
    """
    INSERT INTO leaderboard_scores (metric, period_key, scope, member_id, points, is_listed, updated_at)
    SELECT 'points', period.key, scope.name, m.id, greatest(1, (m.points * scope.share)::bigint), m.id % 10 <> 0, now()
    FROM (SELECT id, (power(random(), 3) * 5000)::bigint + 1 AS points FROM members) AS m
    CROSS JOIN (VALUES (:month), ('all')) AS period (key)
    CROSS JOIN LATERAL (
        VALUES ('all', 1.0), ('store:S' || lpad((m.id % :stores)::text, 3, '0'), 0.6)
    ) AS scope (name, share)
    WHERE scope.name = 'all' OR period.key = :month
    """
)
SEED_PROFILES = text(
    """
    INSERT INTO leaderboard_profiles (member_id, display_name, opted_in, updated_at)
    SELECT id, 'Player ' || id, id % 10 <> 0, now() FROM members
    """
)


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    url = stack.recreate_database(DATABASE)
    print(f"setting up {DATABASE} with {options.members:,} members…", flush=True)
    seeded = stack.prepare_database(url, members=options.members, store_code="S001")
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        now = datetime.now(UTC)
        with Session(engine) as session:
            month = period_key(now, "month", get_settings(session).default_timezone)
        seed_s = _seed(engine, month, options.stores)
        print(f"members seeded in {seeded.seed_s:.1f} s; scores and profiles in {seed_s:.1f} s")
        _describe(engine, month)
        probes = _probes(engine, month)
        print(f"\n{'member':<28} {'rank':>8} {'points':>7} {'first ms':>9} {'p50 ms':>7} {'p95 ms':>7}")
        for label, member_id in probes.items():
            first, timings, board = _time_board(engine, member_id, now, options.repeat)
            p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
            print(
                f"{label:<28} {board.me.rank:>8} {board.me.points:>7} {first:9.2f}"
                f" {statistics.median(timings):7.2f} {p95:7.2f}"
            )
        print(f"\ntop 10: {[(entry.rank, entry.display_name, entry.points) for entry in board.entries]}")
        _explain(engine, probes["at the bottom"], now)
    finally:
        engine.dispose()
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20, help="timed reads per member (after a first one)")
    return parser.parse_args(argv)


def _seed(engine: Engine, month: str, stores: int) -> float:
    started = time.monotonic()
    with engine.begin() as connection:
        connection.execute(text("SELECT setseed(0.42)"))
        connection.execute(SEED_SCORES, {"month": month, "stores": stores})
        connection.execute(SEED_PROFILES)
    seed_s = time.monotonic() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE leaderboard_scores"))
        connection.execute(text("VACUUM ANALYZE leaderboard_profiles"))
    return seed_s


def _describe(engine: Engine, month: str) -> None:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE period_key = :month AND scope = 'all'), count(*) FROM leaderboard_scores"
            ),
            {"month": month},
        ).one()
        sizes = connection.execute(
            text(
                "SELECT pg_size_pretty(pg_relation_size('leaderboard_scores')),"
                " pg_size_pretty(pg_relation_size('ix_leaderboard_scores_ranking'))"
            )
        ).one()
    print(f"board {BOARD}, month {month}: {rows[0]:,} members; {rows[1]:,} score rows in all")
    print(f"table {sizes[0]}, ranking index {sizes[1]}")


def _probes(engine: Engine, month: str) -> dict[str, int]:
    """Listed members at the top, in the middle and at the bottom of this month's board."""
    ranked = """
        SELECT member_id FROM leaderboard_scores
        WHERE metric = 'points' AND period_key = :month AND scope = 'all' AND is_listed
        ORDER BY points {order}, member_id LIMIT 1 OFFSET :offset
    """
    with engine.connect() as connection:
        listed = connection.execute(
            text(
                "SELECT count(*) FROM leaderboard_scores"
                " WHERE metric = 'points' AND period_key = :month AND scope = 'all' AND is_listed"
            ),
            {"month": month},
        ).scalar_one()
        return {
            label: connection.execute(text(ranked.format(order=order)), {"month": month, "offset": offset}).scalar_one()
            for label, order, offset in (
                ("at the top", "DESC", 0),
                ("in the middle", "DESC", listed // 2),
                ("at the bottom", "ASC", 0),
            )
        }


def _time_board(engine: Engine, member_id: int, now: datetime, repeat: int) -> tuple[float, list[float], Any]:
    """The first read's milliseconds, then ``repeat`` more, each in its own session as a request has."""
    timings = []
    board = None
    for _ in range(repeat + 1):
        with Session(engine) as session:
            started = time.perf_counter()
            board = read_board(session, BOARD, period="month", store=None, limit=10, now=now, member_id=member_id)
            timings.append((time.perf_counter() - started) * 1000)
    return timings[0], timings[1:], board


def _explain(engine: Engine, member_id: int, now: datetime) -> None:
    """The plan of each query ``read_board`` makes, as it made them."""
    with engine.connect() as connection:
        with _captured(connection) as statements, Session(bind=connection) as session:
            read_board(session, BOARD, period="month", store=None, limit=10, now=now, member_id=member_id)
        for statement, parameters in statements:
            if "leaderboard_scores" not in statement:
                continue
            print("\n" + " ".join(statement.split()))
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            for (line,) in plan:
                print("    " + line)


@contextmanager
def _captured(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", capture)


if __name__ == "__main__":
    raise SystemExit(main())
