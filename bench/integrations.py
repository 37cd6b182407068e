"""Imports and segments at scale, on PostgreSQL: a members file of a million rows imported, then
segment counts over the million members.

``python -m bench.integrations [--members 1000000] [--counts-only] [--database NAME]``. Recreates the database
``loyalty_bench_integrations`` (or ``NAME``),
loads the default program, writes a members CSV (external id, email, names, birth date, time zone,
consents, an opening balance for two thirds with its expiry), imports it with the same runner as
``loyalty import`` (batches of 1,000, one transaction each) and reports the time, the rate and the
process's peak memory. Then it seeds one purchase with one line for every member but a tenth of them
(``INSERT … SELECT``, not timed), counts the members' rolling purchase windows as the scheduler's
``purchase-windows`` task does (timed, with the next day's pass, rolled back), and times ``SELECT count(*)`` for a dozen segment definitions
(best of three), with the plan of the slowest; a definition on purchases is timed a second time
reading the monthly summary instead of the rolling windows, in the same run. ``--counts-only`` keeps the database as an earlier run left
it (however many members it imported) and only seeds the purchases and times the counts.
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.migrate import upgrade
from bench import stack
from loyalty.db import make_engine, session_scope
from loyalty.imports.outcome import Outcome
from loyalty.imports.runner import OnBatch, run_import
from loyalty.members.models import Member
from loyalty.program.operations import read_program_file
from loyalty.segments.compiler import compile_definition, register_condition
from loyalty.segments.operations import context, make_room_for_count
from loyalty.segments.tasks import roll_windows
from notifications.program import load_program
from rewards.badges.segments import badge_held

DATABASE = "loyalty_bench_integrations"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Paris", "Europe/London", "Europe/Madrid", "America/New_York")

SEED_PURCHASES = text(
    """
    INSERT INTO purchases (store_code, receipt_no, member_id, channel, currency, total, occurred_at, recorded_at,
                           request_hash, points_awarded, returned_amount, points_reversed, points_pending)
    SELECT 'S' || (id % 20), 'B' || id, id, 'store', 'EUR', 1000 + (id * 7919) % 20000,
           :now - ((id * 104729) % 400) * interval '1 day', :now, md5(id::text), 0, 0, 0, 0
    FROM members WHERE id % 10 <> 0
    """
)
SEED_LINES = text(
    """
    INSERT INTO purchase_lines (purchase_id, line_no, sku, category, quantity, unit_price, returned_quantity)
    SELECT id, 1, 'SKU', (ARRAY['shoes', 'beauty', 'textile', 'home'])[1 + id % 4], 1, total, 0 FROM purchases
    """
)
#: The per-member summary the segment conditions read, as the migration back-fills it (the consumer keeps
#: it from then on; the seeded purchases record no events).
SEED_SUMMARY = (
    text(
        """
        INSERT INTO member_purchase_months (member_id, month, purchases, spend)
        SELECT member_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*), sum(total - returned_amount)
        FROM purchases WHERE member_id IS NOT NULL GROUP BY 1, 2
        """
    ),
    text(
        """
        INSERT INTO member_categories (member_id, category, last_bought_at)
        SELECT p.member_id, l.category, max(p.occurred_at) FROM purchases AS p JOIN purchase_lines AS l ON l.purchase_id = p.id
        WHERE p.member_id IS NOT NULL AND l.category IS NOT NULL GROUP BY 1, 2
        """
    ),
)
LAST_PURCHASES = text(
    "UPDATE members m SET last_purchase_at = p.occurred_at, purchase_count = 1 FROM purchases p WHERE p.member_id = m.id"
)

DEFINITIONS: list[tuple[str, dict[str, Any]]] = [
    ("balance >= 500", {"balance": {"gte": 500}}),
    ("time zone London", {"timezone": ["Europe/London"]}),
    ("email consent, no SMS", {"consent": {"email": True, "sms": False}}),
    ("enrolled within 30 days", {"enrolled": {"within_days": 30}}),
    ("lapsed 90 days (or never)", {"last_purchase": {"not_within_days": 90}}),
    ("2+ purchases in 90 days", {"purchases": {"within_days": 90, "count": {"gte": 2}}}),
    ("spend < 50.00 in 180 days", {"purchases": {"within_days": 180, "spend": {"lt": "50.00"}}}),
    ("bought beauty in a year", {"categories": {"any_of": ["beauty"], "within_days": 365}}),
    ("qualifying points > 100", {"qualifying_points": {"gt": 100}}),
    ("custom event in 30 days", {"custom_event": {"type": "store_event_attended", "within_days": 30}}),
    ("badge held", {"badge": "first_purchase"}),
    (
        "lapsed email readers with a balance, not London",
        {"all": [{"consent": {"email": True}}, {"last_purchase": {"not_within_days": 60}}, {"balance": {"gte": 100}},
                 {"not": {"timezone": ["Europe/London"]}}]},
    ),  # fmt: skip
]


def write_members(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["external_id", "email", "first_name", "last_name", "birth_date", "timezone",
                         "consent_email", "consent_sms", "points", "points_expire_at"])  # fmt: skip
        for n in range(1, count + 1):
            points = (n * 7919) % 1500 if n % 3 else 0
            writer.writerow([
                f"CRM-{n}", f"member{n}@bench.example", "Member", f"Number {n}",
                f"{1950 + n % 55}-{1 + n % 12:02d}-{1 + n % 28:02d}", ZONES[n % len(ZONES)],
                "yes" if n % 4 else "no", "yes" if n % 3 == 0 else "no", points,
                "2027-12-31" if points else "",
            ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--counts-only", action="store_true", help="time the counts on the database as it is")
    parser.add_argument("--database", default=DATABASE, help=f"the database to recreate or reuse (default {DATABASE})")
    options = parser.parse_args(argv)
    url = (
        f"postgresql+psycopg://postgres@127.0.0.1:5432/{options.database}"
        if options.counts_only
        else stack.recreate_database(options.database)
    )
    upgrade(url)  # on a database an earlier run left, the migrations since (and their back-fills)
    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    register_condition("badge", badge_held)
    try:
        if not options.counts_only:
            _import(sessions, options.members)
        _seed_purchases(engine)
        _count_windows(sessions, engine)
        _time_counts(sessions, engine)
    finally:
        engine.dispose()
    return 0


def _import(sessions: sessionmaker[Session], members: int) -> None:
    with session_scope(sessions) as session:
        load_program(session, read_program_file(), now=NOW)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "members.csv"
        started = time.perf_counter()
        write_members(path, members)
        print(f"members file: {members} rows, {path.stat().st_size / 1e6:.0f} MB, "
              f"written in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        started = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as lines:
            outcome = run_import(sessions, kind="members", fmt="csv", lines=lines, now=NOW, on_batch=_progress(started, members))
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import: {outcome.rows} rows, {outcome.imported} imported, {outcome.failed} bad in {seconds:.1f} s "
          f"({outcome.rows / seconds:,.0f} rows/s); peak memory of the process {peak:.0f} MiB", flush=True)  # fmt: skip


def _progress(started: float, members: int) -> OnBatch:
    """Prints the rows done, the rate and the memory every 50,000 rows."""

    def report(_session: Session, total: Outcome, _batch: Outcome, _line: int) -> None:
        if total.rows % 50_000 == 0 or total.rows == members:
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  {total.rows:>9,} rows in {seconds:6.0f} s ({total.rows / seconds:,.0f} rows/s), peak {peak:.0f} MiB", flush=True)

    return report


def _seed_purchases(engine: Engine) -> None:
    with engine.begin() as connection:
        seeded = connection.execute(text("SELECT count(*) FROM purchases")).scalar_one()
    if seeded:  # by an earlier run; the summary tables may be new, back-filled by the migration
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE member_purchase_months, member_categories"))
        return
    with engine.begin() as connection:
        started = time.perf_counter()
        connection.execute(SEED_PURCHASES, {"now": NOW})
        connection.execute(SEED_LINES)
        connection.execute(LAST_PURCHASES)
        for statement in SEED_SUMMARY:
            connection.execute(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"seeded purchases in {time.perf_counter() - started:.1f} s", flush=True)


def _count_windows(sessions: sessionmaker[Session], engine: Engine) -> None:
    """The ``purchase-windows`` maintenance task's first run counts every member (later runs the same
    day: none); then the next day's pass is timed and rolled back."""
    started = time.perf_counter()
    with session_scope(sessions) as session:
        moved = roll_windows(session, NOW)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE member_purchase_windows"))
    print(f"rolling windows {'counted' if moved else 'already counted'} in {time.perf_counter() - started:.1f} s", flush=True)
    with sessions() as session:  # the next day's pass, rolled back: the database stays as it is
        started = time.perf_counter()
        roll_windows(session, NOW + timedelta(days=1))
        print(f"the next day's pass: {time.perf_counter() - started:.2f} s (rolled back)", flush=True)
        session.rollback()


def _time_counts(sessions: sessionmaker[Session], engine: Engine) -> None:
    with sessions() as session:
        members = session.scalar(select(func.count()).select_from(Member))
        print(f"segment counts over {members:,} members (best of three; then reading the monthly summary):", flush=True)
        slowest: tuple[float, str, Any] = (0.0, "", None)
        rolling = context(session, NOW)
        monthly = replace(rolling, windows_as_of=None)
        for label, definition in DEFINITIONS:
            query = select(func.count()).select_from(Member).where(compile_definition(definition, rolling))
            count, best = _best_of_three(session, query)
            figures = f"  {label:<48} {count:>9,}  {best * 1000:8.0f} ms"
            other = select(func.count()).select_from(Member).where(compile_definition(definition, monthly))
            if str(other) != str(query):
                count_monthly, best_monthly = _best_of_three(session, other)
                assert count_monthly == count, (label, count, count_monthly)
                figures += f"  {best_monthly * 1000:8.0f} ms"
            print(figures, flush=True)
            if best > slowest[0]:
                slowest = (best, label, query)
        compiled = slowest[2].compile(engine, compile_kwargs={"literal_binds": True})
        plan = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
        print(f"plan of the slowest ({slowest[1]}):")
        print("\n".join(plan))


def _best_of_three(session: Session, query: Any) -> tuple[int, float]:
    make_room_for_count(session)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        count = session.scalar(query) or 0
        times.append(time.perf_counter() - started)
    return count, min(times)


if __name__ == "__main__":
    raise SystemExit(main())
