"""Scenario scans at scale: the near-threshold and the inactivity scans over a million members on PostgreSQL.

``python -m bench.scenario_scan [--members 1000000] [--reuse] [--database NAME]``. Seeds the database
``loyalty_bench_scenarios`` (or ``NAME``; dropped and created again unless ``--reuse`` finds it seeded,
then migrated to the head), then times, with the program's 100-point threshold:

1. the near-threshold query (``scan_query_near_threshold``) alone, and its ``EXPLAIN (ANALYZE, BUFFERS)``;
2. the whole ``run_scan`` of the ``near_threshold`` scenario, which enters everybody it finds;
3. the same scan again, once everybody near the threshold is in: the cooldown's ``NOT EXISTS`` leaves nobody;
4. the inactivity scan of the ``reactivation`` scenario, first and second run.

Everything talks to the local server (127.0.0.1:5432, user ``postgres``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, delete, func, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from app.migrate import upgrade
from bench import stack
from loyalty.db import make_engine, session_scope
from loyalty.members.models import Member
from loyalty.program.operations import read_program_file
from notifications.journeys.models import Journey
from notifications.journeys.scans import run_scan, scan_query_near_threshold
from notifications.program import load_program
from notifications.scenarios.models import Scenario
from notifications.scenarios.operations import parse

DATABASE = "loyalty_bench_scenarios"
THRESHOLD = 100

#: A reproducible draw in [0, 1) per member and purpose, from ``n`` (no ``setseed`` session state).
_DRAW = "('x' || substr(md5(n || '{purpose}'), 1, 8))::bit(32)::bigint::float8 / 4294967296"
#: Members in one statement, with every NOT NULL column. Balances: 35% at 0 (no purchase yet, or spent),
#: 60% spread below the 100-point threshold and skewed towards it (about 4.7% of all members are within
#: 10 points of it), 5% above it. Buyers bought 1 to 20 times, last ``Exp(60 days)`` ago (about 22% of
#: them 90 days ago or more); enrolments over two years; birthdays spread over the year.
SEED_MEMBERS = text(
    f"""
    INSERT INTO members (email, first_name, last_name, card_number, locale, timezone,
                         consent_email, consent_sms, consent_push, preferred_channel, referral_code,
                         points_balance, pending_points, lifetime_points, tier_code, tier_since,
                         purchase_count, last_purchase_at, enrolled_at, enrolled_md, birth_date, birthday_md,
                         updated_at)
    SELECT 'member' || n || '@bench.example', 'Member', 'Number ' || n, '29' || lpad(n::text, 14, '0'),
           'fr-FR', 'Europe/Paris', n % 4 <> 0, n % 3 = 0, n % 5 = 0, 'email', 'B' || lpad(n::text, 7, '0'),
           balance.points, 0, balance.points, entry.code, enrolled.at,
           buys.count, buys.last_at, enrolled.at,
           extract(month FROM enrolled.at AT TIME ZONE 'UTC') * 100 + extract(day FROM enrolled.at AT TIME ZONE 'UTC'),
           born.on, extract(month FROM born.on) * 100 + extract(day FROM born.on), now()
    FROM generate_series(1, :count) AS n
    CROSS JOIN (SELECT code FROM tiers ORDER BY rank LIMIT 1) AS entry
    CROSS JOIN LATERAL (
        SELECT {_DRAW.format(purpose="/kind")} AS kind, {_DRAW.format(purpose="/points")} AS points,
               {_DRAW.format(purpose="/count")} AS count, {_DRAW.format(purpose="/last")} AS last,
               {_DRAW.format(purpose="/enrolled")} AS enrolled, {_DRAW.format(purpose="/born")} AS born
    ) AS draw
    CROSS JOIN LATERAL (
        SELECT CASE WHEN draw.kind < 0.35 THEN 0
                    WHEN draw.kind < 0.95 THEN floor({THRESHOLD} * power(draw.points, 1.3))::bigint
                    ELSE {THRESHOLD} + floor(draw.points * 1900)::bigint END AS points
    ) AS balance
    CROSS JOIN LATERAL (
        SELECT CASE WHEN draw.kind < 0.35 THEN 0 ELSE 1 + floor(draw.count * 20)::bigint END AS count,
               CASE WHEN draw.kind < 0.35 THEN NULL
                    ELSE now() - (-ln(1 - draw.last) * 60) * interval '1 day' END AS last_at
    ) AS buys
    CROSS JOIN LATERAL (
        SELECT least(coalesce(buys.last_at, now()), now() - draw.enrolled * interval '730 days') AS at
    ) AS enrolled
    CROSS JOIN LATERAL (SELECT date '1950-01-01' + floor(draw.born * 20000)::int AS on) AS born
    """
)
#: Every buyer's welcome journey, ended: the journeys table a program of that size has, so that the
#: planner weighs the ``NOT EXISTS`` against a table that is not empty.
SEED_JOURNEYS = text(
    """
    INSERT INTO journeys (scenario_id, scenario_version, member_id, entry_key, is_holdout, status,
                          step_started_at, context, entered_at, ended_at, end_reason, messages_sent)
    SELECT welcome.id, welcome.version, m.id, 'once', false, 'ended', m.enrolled_at, '{}', m.enrolled_at,
           m.enrolled_at + interval '1 day', 'completed', 1
    FROM members AS m CROSS JOIN (SELECT id, version FROM scenarios WHERE key = 'welcome') AS welcome
    WHERE m.purchase_count > 0
    """
)

T = TypeVar("T")


class Explain(Executable, ClauseElement):
    """``EXPLAIN (ANALYZE, BUFFERS)`` of a statement, its parameters bound as for the statement itself."""

    inherit_cache = False

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (ANALYZE, BUFFERS) " + compiler.process(element.statement, **kw)


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the seeded database of an earlier run if it has the members"
    )
    parser.add_argument("--database", default=DATABASE, help=f"the database to seed and scan (default {DATABASE})")
    options = parser.parse_args(argv)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{options.database}"
    engine = make_engine(url)
    try:
        if options.reuse and _seeded_members(engine) == options.members:
            upgrade(url)  # the migrations written since it was seeded
        else:
            engine.dispose()
            engine = make_engine(stack.recreate_database(options.database))
            _seed(engine, options.members)
        _forget_scan_journeys(engine)
        _run(sessionmaker(engine, expire_on_commit=False), engine)
    finally:
        engine.dispose()
    return 0


def _seeded_members(engine: Engine) -> int | None:
    """How many members an earlier run seeded; None without the database or its schema."""
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM members")).scalar_one())
    except (OperationalError, ProgrammingError):
        return None


def _seed(engine: Engine, members: int) -> None:
    upgrade(engine.url.render_as_string(hide_password=False))
    sessions = sessionmaker(engine)
    with session_scope(sessions) as session:
        load_program(session, read_program_file(None), now=datetime.now(UTC))
    seconds, _ = timed(lambda: _execute(engine, SEED_MEMBERS, {"count": members}))
    print(f"seeded {members:,} members in {seconds:.1f} s")
    seconds, _ = timed(lambda: _execute(engine, SEED_JOURNEYS, {}))
    print(f"seeded the buyers' welcome journeys in {seconds:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _execute(engine: Engine, statement: Any, parameters: dict[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(statement, parameters)


def _forget_scan_journeys(engine: Engine) -> None:
    """Remove what an earlier run's scans entered, so that every run starts from the seeded state."""
    with engine.begin() as connection:
        scenario_ids = select(Scenario.id).where(Scenario.key.in_(("near_threshold", "reactivation")))
        connection.execute(delete(Journey).where(Journey.scenario_id.in_(scenario_ids)))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE journeys"))


def _run(sessions: sessionmaker[Session], engine: Engine) -> None:
    now = datetime.now(UTC)
    with sessions() as session:
        members = session.scalar(select(func.count(Member.id)))
        near = session.scalar(
            select(func.count(Member.id)).where(Member.points_balance.between(THRESHOLD - 10, THRESHOLD - 1))
        )
        size = session.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
    print(f"{members:,} members ({size}), {near:,} within 10 points of the {THRESHOLD}-point threshold\n")

    near_threshold = _scenario(sessions, "near_threshold")
    query = scan_query_near_threshold(near_threshold, parse(near_threshold.definition), THRESHOLD, now)
    seconds, rows = timed(lambda: _fetch(sessions, query))
    print(f"near-threshold query alone: {len(rows):,} members in {seconds * 1000:.1f} ms")
    _print_plan(sessions, query, "plan, nobody in the scenario yet")

    seconds, entered = timed(lambda: _scan(sessions, "near_threshold", now))
    print(f"near-threshold run_scan (query, variants, entries): {entered:,} members entered in {seconds:.2f} s\n")
    _analyze(engine)
    seconds, entered = timed(lambda: _scan(sessions, "near_threshold", now))
    print(f"near-threshold run_scan again, everybody in (cooldown): {entered:,} entered in {seconds * 1000:.1f} ms")
    _print_plan(sessions, query, "plan, everybody near the threshold in the scenario")

    reactivation = _scenario(sessions, "reactivation")
    seconds, entered = timed(lambda: _scan(sessions, "reactivation", now))
    print(f"inactivity run_scan (90 days): {entered:,} members entered in {seconds:.2f} s")
    _analyze(engine)
    seconds, entered = timed(lambda: _scan(sessions, "reactivation", now))
    print(f"inactivity run_scan again, everybody in: {entered:,} entered in {seconds:.2f} s")
    days = int(parse(reactivation.definition).trigger.options["days"])
    # The inactivity scan's query, as run_scan writes it (the scenario has no cooldown: no NOT EXISTS).
    inactive = select(Member.id).where(Member.purchase_count > 0, Member.last_purchase_at <= now - timedelta(days=days))
    _print_plan(sessions, inactive, "plan of the inactivity query")


def _scenario(sessions: sessionmaker[Session], key: str) -> Scenario:
    with sessions() as session:
        return session.scalars(select(Scenario).where(Scenario.key == key)).one()


def _fetch(sessions: sessionmaker[Session], query: Any) -> list[Any]:
    with sessions() as session:
        return list(session.execute(query).all())


def _scan(sessions: sessionmaker[Session], key: str, now: datetime) -> int:
    with session_scope(sessions) as session:
        return run_scan(session, session.scalars(select(Scenario).where(Scenario.key == key)).one(), now=now)


def _analyze(engine: Engine) -> None:
    """What autovacuum does soon after a scan entered many members."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE journeys"))


def _print_plan(sessions: sessionmaker[Session], query: Any, title: str) -> None:
    with sessions() as session:
        plan = [row[0] for row in session.execute(Explain(query))]
    print(f"-- {title}")
    print("\n".join(plan))
    print()


if __name__ == "__main__":
    raise SystemExit(main())
