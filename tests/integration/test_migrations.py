"""The migrations on a database of their own: the data migration of the tiers and lots revision, and
the way back down.

On SQLite the database is a new file; in the PostgreSQL pass it is a new schema in the test database,
dropped afterwards, so that the suite's own schema is left alone.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, func, inspect, insert, make_url, select, text
from sqlalchemy.orm import Session

from app.migrate import alembic_config, upgrade
from loyalty.db import make_engine
from loyalty.ledger.models import LedgerEntry, PointLot
from loyalty.members.models import Member
from tests.conftest import DATABASE_URL, ON_POSTGRES

CORE_REVISION = "72275addd3bd"
ENROLLED_AT = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
UPDATED_AT = datetime(2025, 6, 1, 17, 30, tzinfo=UTC)
#: (kind, points, source_type) of the entries of each member; the balances are their sums.
ENTRIES = {
    1: [("earn", 45, "purchase"), ("reverse", -5, "purchase"), ("adjust", 20, None), ("redeem", -10, None)],
    2: [("earn", 7, "purchase"), ("reverse", -7, "purchase"), ("adjust", -3, None)],
    3: [],
}


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database nobody else uses: a new SQLite file, or a new PostgreSQL schema
    (first on the connection's search path) dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    schema = f"migrations_{secrets.token_hex(4)}"
    server = make_engine(DATABASE_URL, pool_size=1, max_overflow=0)
    with server.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = make_url(DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with server.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        server.dispose()


@pytest.fixture
def engine(fresh_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def insert_core_members(engine: Engine) -> None:
    """Members and their ledger, written in SQL against the core schema (no ORM model matches it)."""
    tables = MetaData()
    tables.reflect(engine, only=["members", "ledger_entries"])
    members, entries = tables.tables["members"], tables.tables["ledger_entries"]
    with engine.begin() as connection:
        for member_id, rows in ENTRIES.items():
            connection.execute(
                insert(members).values(
                    id=member_id,
                    email=f"m{member_id}@example.com",
                    first_name="Ada",
                    last_name=f"Member{member_id}",
                    card_number=f"CARD-{member_id}",
                    locale="fr-FR",
                    timezone="Europe/Paris",
                    consent_email=False,
                    consent_sms=False,
                    consent_push=False,
                    referral_code=f"REF{member_id}",
                    points_balance=sum(points for _, points, _ in rows),
                    purchase_count=1 if rows else 0,
                    enrolled_at=ENROLLED_AT,
                    updated_at=UPDATED_AT,
                )
            )
            balance = 0
            for kind, points, source_type in rows:
                balance += points
                connection.execute(
                    insert(entries).values(
                        member_id=member_id,
                        kind=kind,
                        points=points,
                        balance_after=balance,
                        reason=kind,
                        source_type=source_type,
                        source_id="1" if source_type else None,
                        created_at=ENROLLED_AT,
                    )
                )


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_gives_existing_members_a_lot_a_tier_and_lifetime_points(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    upgrade(url, CORE_REVISION)
    insert_core_members(engine)
    upgrade(url)
    with Session(engine) as session:
        members = {member.id: member for member in session.scalars(select(Member))}
        assert {
            member_id: (member.points_balance, member.tier_code, member.tier_since, member.lifetime_points)
            for member_id, member in members.items()
        } == {1: (50, "member", ENROLLED_AT, 40), 2: (-3, "member", ENROLLED_AT, 0), 3: (0, "member", ENROLLED_AT, 0)}
        lot = session.scalars(select(PointLot)).one()
        last_credit = session.scalar(
            select(func.max(LedgerEntry.id)).where(LedgerEntry.member_id == 1, LedgerEntry.points > 0)
        )
        assert (lot.member_id, lot.entry_id, lot.points, lot.remaining, lot.earned_at, lot.expires_at) == (
            1,
            last_credit,
            50,
            50,
            UPDATED_AT,
            None,
        )
        qualifying = session.execute(
            select(LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.is_qualifying).order_by(LedgerEntry.id)
        ).all()
    assert [tuple(row) for row in qualifying] == [
        (1, "earn", True),
        (1, "reverse", True),
        (1, "adjust", False),
        (1, "redeem", False),
        (2, "earn", True),
        (2, "reverse", True),
        (2, "adjust", False),
    ]


def test_downgrade_to_the_core_revision_keeps_members_and_ledger(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    upgrade(url, CORE_REVISION)
    insert_core_members(engine)
    upgrade(url)
    command.downgrade(alembic_config(url), CORE_REVISION)
    assert {"point_lots", "tiers", "engagements", "vouchers"}.isdisjoint(table_names(engine))
    assert "tier_code" not in {column["name"] for column in inspect(engine).get_columns("members")}
    with engine.connect() as connection:
        balances = connection.execute(text("SELECT id, points_balance FROM members ORDER BY id")).all()
        entries = connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
    assert [tuple(row) for row in balances] == [(1, 50), (2, -3), (3, 0)]
    assert entries == sum(len(rows) for rows in ENTRIES.values())


def test_every_revision_goes_down_to_an_empty_database_and_up_again(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    assert table_names(engine) <= {"alembic_version"}
    upgrade(url)
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert revision == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert {"members", "point_lots", "engagements"} <= table_names(engine)


def test_upgrade_gives_existing_purchase_lines_their_share_of_the_points_by_amount(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    upgrade(url, "a7c3e9f1b5d2")
    tables = MetaData()
    tables.reflect(engine, only=["purchases", "purchase_lines"])
    purchases, lines = tables.tables["purchases"], tables.tables["purchase_lines"]
    with engine.begin() as connection:
        for purchase_id, awarded in ((1, 45), (2, 0)):
            connection.execute(insert(purchases).values(
                id=purchase_id, store_code="S1", receipt_no=f"R{purchase_id}", channel="store", currency="EUR",
                total=4590, occurred_at=ENROLLED_AT, recorded_at=ENROLLED_AT, request_hash="h", points_awarded=awarded,
                returned_amount=0, points_reversed=0, points_pending=0,
            ))  # fmt: skip
            connection.execute(insert(lines), [
                {"purchase_id": purchase_id, "line_no": 1, "sku": "SHOE-42", "quantity": 1, "unit_price": 2000,
                 "returned_quantity": 0},
                {"purchase_id": purchase_id, "line_no": 2, "sku": "SOCK-1", "quantity": 2, "unit_price": 1295,
                 "returned_quantity": 0},
            ])  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT purchase_id, line_no, points FROM purchase_lines ORDER BY 1, 2")).all()
    # 45 × 20.00 / 45.90 = 19.6 and 45 × 25.90 / 45.90 = 25.4: 19 and 25 rounded down, the point left to the shoe.
    assert [tuple(row) for row in rows] == [(1, 1, 20), (1, 2, 25), (2, 1, 0), (2, 2, 0)]
