"""Qualifying months: each member's qualifying points by month, kept by a trigger on the ledger.

Revision ID: a3c5e7f9b1d2
Revises: f2b4d6a8c0e1
Create Date: 2026-12-04 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a3c5e7f9b1d2'
down_revision = 'f2b4d6a8c0e1'
branch_labels = None
depends_on = None

#: The month of an entry, per database (as the trigger computes it).
MONTH = {
    'sqlite': "date(created_at, 'start of month')",
    'postgresql': "date_trunc('month', created_at AT TIME ZONE 'UTC')::date",
}
#: The trigger and its function, as created on 2026-12-04 (a migration keeps its own copy).
TRIGGERS = {
    'sqlite': [
        """
        CREATE TRIGGER ledger_entries_qualifying_month AFTER INSERT ON ledger_entries
        WHEN NEW.is_qualifying
        BEGIN
            INSERT INTO qualifying_months (member_id, month, points)
            VALUES (NEW.member_id, date(NEW.created_at, 'start of month'), NEW.points)
            ON CONFLICT (member_id, month) DO UPDATE SET points = qualifying_months.points + excluded.points;
        END
        """,
    ],
    'postgresql': [
        """
        CREATE FUNCTION ledger_entries_qualifying_month() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO qualifying_months (member_id, month, points)
            VALUES (NEW.member_id, date_trunc('month', NEW.created_at AT TIME ZONE 'UTC')::date, NEW.points)
            ON CONFLICT (member_id, month) DO UPDATE SET points = qualifying_months.points + excluded.points;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER ledger_entries_qualifying_month AFTER INSERT ON ledger_entries
        FOR EACH ROW WHEN (NEW.is_qualifying) EXECUTE FUNCTION ledger_entries_qualifying_month()
        """,
    ],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'qualifying_months',
        sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_qualifying_months_member_id_members')),
        sa.PrimaryKeyConstraint('member_id', 'month', name=op.f('pk_qualifying_months')),
    )
    op.execute(
        f"INSERT INTO qualifying_months (member_id, month, points) "
        f"SELECT member_id, {MONTH[dialect]}, sum(points) FROM ledger_entries WHERE is_qualifying "
        f"GROUP BY member_id, {MONTH[dialect]}"
    )
    for statement in TRIGGERS[dialect]:
        op.execute(statement)


def downgrade() -> None:
    op.execute('DROP TRIGGER ledger_entries_qualifying_month' + (' ON ledger_entries' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION ledger_entries_qualifying_month()')
    op.drop_table('qualifying_months')
