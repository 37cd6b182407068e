"""The back office's dashboard over a million members on PostgreSQL.

``python -m bench.dashboard [--members 1000000] [--url URL]``. Seeds a database as an operator would
(``loyalty init``, then members in one statement, as the other benchmarks do), adds 90 days of
activity in a few set-based statements (purchases, their ledger entries, redemptions, expiries,
vouchers, messages, journeys, upgrades, engagement scores), runs ``ANALYZE``, counts the daily
roll-up as the scheduler's task does (timed: the first count of every day, then a run with nothing
left), then times each figure of ``reporting.dashboard`` and the whole page (``GET /admin/``, logged
in) for 7, 30 and 90 days and a custom period over (the 60 days before the last 30): the first
request (cold: a new application, its first connection) and the best of three after it (warm).
``--reuse`` times a database seeded before (migrated to the head first).

Without ``--url`` it uses the database ``loyalty_bench_dashboard`` (dropped and created again); with
``--url`` it works in a schema ``bench_dashboard`` of that database (dropped and created again).
"""

from __future__ import annotations

import argparse
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import make_url, text

from app import create_app, migrate
from app.backoffice.staff import create_staff
from bench import stack
from loyalty.db import make_engine, session_scope
from reporting import dashboard
from reporting.period import Period
from reporting.tasks import refresh_dashboard_days

DATABASE = "loyalty_bench_dashboard"
SCHEMA = "bench_dashboard"
_DRAW = "('x' || substr(md5(n || '{purpose}'), 1, 8))::bit(32)::bigint::float8 / 4294967296"


def _draw(purpose: str) -> str:
    return _DRAW.format(purpose=purpose)


#: Each statement adds one kind of activity over the last 90 days (balances and tiers first); ``:members``
#: members exist, ids from ``:first``. Purchases: one per member on average; ledger entries: each purchase's points, a
#: redemption for one member in ten, expiries for one in fifty.
ACTIVITY = {
    "balances and tiers": """
        UPDATE members SET points_balance = (id * 7919) % 2000, lifetime_points = (id * 7919) % 2000,
                           tier_code = CASE WHEN id % 5 = 0 THEN 'vip' ELSE tier_code END""",
    "purchases": f"""
        INSERT INTO purchases (store_code, receipt_no, member_id, channel, currency, total, occurred_at, recorded_at,
                               request_hash, points_awarded, returned_amount, points_reversed, points_pending)
        SELECT 'S' || (n % 50), 'B' || n, :first + floor({_draw('/buyer')} * :members)::bigint,
               CASE WHEN n % 5 = 0 THEN 'online' ELSE 'store' END, 'EUR', 500 + floor({_draw('/total')} * 20000)::bigint,
               now() - {_draw('/when')} * interval '90 days', now(), md5(n::text), 0,
               CASE WHEN n % 20 = 0 THEN 500 ELSE 0 END, 0, 0
        FROM generate_series(1, :members) AS n""",
    "last purchases": """
        UPDATE members SET last_purchase_at = bought.at, purchase_count = bought.n
        FROM (SELECT member_id, max(occurred_at) AS at, count(*) AS n FROM purchases GROUP BY member_id) AS bought
        WHERE members.id = bought.member_id""",
    "earn entries": """
        INSERT INTO ledger_entries (member_id, kind, points, balance_after, reason, source_type, source_id,
                                    is_qualifying, created_at)
        SELECT member_id, 'earn', 1 + total / 100, 0, 'purchase', 'purchase', id::text, true, recorded_at - (now() - occurred_at)
        FROM purchases WHERE total >= 100""",
    "redemptions": f"""
        INSERT INTO ledger_entries (member_id, kind, points, balance_after, reason, is_qualifying, created_at)
        SELECT :first + n * 10, 'redeem', -100, 0, 'reward', false, now() - {_draw('/redeem')} * interval '90 days'
        FROM generate_series(0, :members / 10 - 1) AS n""",
    "expiries": f"""
        INSERT INTO ledger_entries (member_id, kind, points, balance_after, reason, is_qualifying, created_at)
        SELECT :first + n * 50 + 1, 'expire', -25, 0, 'expiry', false, now() - {_draw('/expire')} * interval '90 days'
        FROM generate_series(0, :members / 50 - 1) AS n""",
    "vouchers": f"""
        INSERT INTO vouchers (code, member_id, reward_id, status, kind, points_cost, source, issued_at, expires_at)
        SELECT 'V' || n, :first + n * 10, reward.id, 'issued', reward.kind, reward.cost_points, 'redemption',
               now() - {_draw('/voucher')} * interval '90 days', now() + interval '60 days'
        FROM generate_series(0, :members / 10 - 1) AS n
        CROSS JOIN LATERAL (SELECT id, kind, cost_points FROM rewards WHERE cost_points > 0
                            ORDER BY md5(id::text || n::text) LIMIT 1) AS reward""",
    "messages": f"""
        INSERT INTO messages (member_id, scenario_key, template_key, channel, is_marketing, send_key, status, recipient,
                              subject, body_text, body_short, data, attempts, created_at, sent_at, delivered_at,
                              opened_at, clicked_at)
        SELECT :first + floor({_draw('/to')} * :members)::bigint, 'reactivation', 'reactivation',
               (ARRAY['email', 'sms', 'push'])[1 + n % 3], true, 'bench-' || n, 'delivered', 'x', 'Hello', 'Hello',
               'Hello', '{{}}', 1, sent.at, sent.at, sent.at,
               CASE WHEN n % 3 = 0 THEN sent.at + interval '1 hour' END,
               CASE WHEN n % 20 = 0 THEN sent.at + interval '2 hours' END
        FROM generate_series(1, :members / 2) AS n
        CROSS JOIN LATERAL (SELECT now() - {_draw('/sent')} * interval '90 days' AS at) AS sent""",
    "journeys": f"""
        INSERT INTO journeys (scenario_id, scenario_version, member_id, entry_key, is_holdout, status, step_started_at,
                              context, entered_at, ended_at, end_reason, messages_sent, converted_at, revenue)
        SELECT scenario.id, scenario.version, :first + n, 'bench', false, 'ended', entered.at, '{{}}', entered.at,
               entered.at + interval '3 days', 'converted', 1, entered.at + interval '2 days',
               1000 + floor({_draw('/revenue')} * 10000)::bigint
        FROM generate_series(0, :members / 5 - 1) AS n
        CROSS JOIN LATERAL (SELECT now() - {_draw('/entered')} * interval '90 days' AS at) AS entered
        CROSS JOIN LATERAL (SELECT id, version FROM scenarios ORDER BY md5(id::text || n::text) LIMIT 1) AS scenario""",
    "upgrades": f"""
        INSERT INTO tier_changes (member_id, from_code, to_code, reason, qualifying_points, changed_at)
        SELECT :first + n * 20, 'member', 'vip', 'upgrade', 150, now() - {_draw('/upgrade')} * interval '90 days'
        FROM generate_series(0, :members / 20 - 1) AS n""",
    "engagement scores": f"""
        INSERT INTO engagement_scores (member_id, score, as_of, level)
        SELECT id, floor({_draw('/score')} * 100), now(),
               CASE WHEN id % 3 = 0 THEN 'engaged' WHEN id % 3 = 1 THEN 'at_risk' ELSE 'dormant' END
        FROM members AS m CROSS JOIN LATERAL (SELECT m.id AS n) AS k""",
}


def best_of(action: Callable[[], object], runs: int = 3) -> float:
    """The best time of ``runs`` runs, in milliseconds, after one warm-up."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--url", help="a PostgreSQL database to work in, in a schema of its own")
    parser.add_argument("--reuse", action="store_true", help="time the database seeded by a previous run")
    args = parser.parse_args(argv)
    url = _database(args.url, keep=args.reuse)
    if args.reuse:
        migrate.upgrade(url)
    else:
        _seed(url, args.members)
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # As autovacuum leaves a table in use: statistics, and the visibility map for index-only scans.
        connection.execute(text("VACUUM ANALYZE"))
        member_count = connection.execute(text("SELECT count(*) FROM members")).scalar_one()
    engine.dispose()

    app = create_app({"LOYALTY_DATABASE_URL": url, "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32)})
    sessions = app.extensions["loyalty.sessions"]
    now = datetime.now(UTC)
    print(f"\n{member_count:,} members; the daily roll-up (the scheduler's task, run until it has nothing left):")
    for run in ("first count", "nothing left"):
        started, days = time.perf_counter(), 0
        while True:
            with session_scope(sessions) as session:
                counted = refresh_dashboard_days(session, now)
            days += counted
            if not counted:
                break
        print(f"  {run}: {days} days in {(time.perf_counter() - started) * 1000:,.0f} ms", flush=True)
    with session_scope(sessions) as session:
        _, password = create_staff(session, email="bench@example.com", role="analyst", now=now, reset=True)
    client = app.test_client()
    page = client.get("/admin/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    client.post(
        "/admin/login", base_url="https://localhost",
        data={"csrf_token": token.group(1), "email": "bench@example.com", "password": password},
    )
    today = now.date()
    periods = {
        "7 days": Period.last_days(7, today=today),
        "30 days": Period.last_days(30, today=today),
        "90 days": Period.last_days(90, today=today),
        "custom": Period(first=today - timedelta(days=89), last=today - timedelta(days=30)),
    }
    queries = {
        name: f"?from={p.first}&to={p.last}" if name == "custom" else f"?days={(p.last - p.first).days + 1}"
        for name, p in periods.items()
    }
    print(f"{'the page, GET /admin/ (ms)':<28}{'cold':>10}{'warm':>10}")
    for name, query in queries.items():
        def request(query: str = query) -> None:
            answer = client.get(f"/admin/{query}", base_url="https://localhost")
            assert answer.status_code == 200, answer.status_code
        started = time.perf_counter()
        request()
        cold = (time.perf_counter() - started) * 1000
        print(f"{name:<28}{cold:>10.1f}{best_of(request):>10.1f}", flush=True)
    print(f"\nbest of 3 runs, milliseconds")
    print(f"{'figure':<24}" + "".join(f"{name:>10}" for name in periods))
    with session_scope(sessions) as session:
        figures: dict[str, Callable[[Period], object]] = {
            "period_figures": lambda p: dashboard.period_figures(session, p),
            "members_now": lambda p: dashboard.members_now(session),
            "member_counts": lambda p: dashboard.member_counts(
                session, p, dashboard.period_figures(session, p), dashboard.members_now(session), now=now
            ),
            "active_members": lambda p: dashboard.active_members(session, p, now=now),
            "engagement_levels": lambda p: dashboard.engagement_levels(session),
        }
        for name, figure in figures.items():
            cells = [best_of(lambda period=period: figure(period)) for period in periods.values()]
            print(f"{name:<24}" + "".join(f"{cell:>10.1f}" for cell in cells), flush=True)
    app.extensions["loyalty.engine"].dispose()
    return 0


#: The statements above draw each row's instant at random; production appends rows in time order, so a
#: day's rows lie together in the table. Each table is put in that order, as production has it.
IN_TIME_ORDER = (
    ("purchases", "occurred_at"), ("ledger_entries", "created_at"), ("vouchers", "issued_at"), ("messages", "sent_at"),
    ("journeys", "converted_at"), ("tier_changes", "changed_at"),
)  # fmt: skip


def _in_time_order(url: str) -> None:
    engine = make_engine(url)
    for table, column in IN_TIME_ORDER:
        started = time.monotonic()
        with engine.begin() as connection:  # CLUSTER needs a whole (not partial) index
            connection.execute(text(f"CREATE INDEX bench_time_order ON {table} ({column})"))
            connection.execute(text(f"CLUSTER {table} USING bench_time_order"))
            connection.execute(text("DROP INDEX bench_time_order"))
        print(f"  {table} in time order in {time.monotonic() - started:.1f} s", flush=True)
    engine.dispose()


def _seed(url: str, members: int) -> None:
    print(f"seeding {members:,} members (loyalty init, then one statement)…", flush=True)
    seeded = stack.prepare_database(url, members=members, store_code="S1")
    print(f"  members seeded in {seeded.seed_s:.1f} s", flush=True)
    engine = make_engine(url)
    for name, statement in ACTIVITY.items():
        started = time.monotonic()
        with engine.begin() as connection:
            parameters = {"members": seeded.member_count, "first": seeded.first_member_id}
            rows = connection.execute(text(statement), parameters).rowcount
        print(f"  {name}: {rows:,} rows in {time.monotonic() - started:.1f} s", flush=True)
    engine.dispose()
    _in_time_order(url)


def _database(url: str | None, *, keep: bool) -> str:
    """The URL to work with: the benchmark's own database, or a schema of ``url``; emptied unless ``keep``."""
    if url is None:
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}" if keep else stack.recreate_database(DATABASE)
    if not keep:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        engine.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)


if __name__ == "__main__":
    raise SystemExit(main())
