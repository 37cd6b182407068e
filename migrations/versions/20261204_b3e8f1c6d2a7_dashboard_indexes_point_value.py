"""The dashboard: indexes on the instants its figures count over; the value of a point.

Revision ID: b3e8f1c6d2a7
Revises: a9d4e2f7b1c3
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b3e8f1c6d2a7'
down_revision = 'a9d4e2f7b1c3'
branch_labels = None
depends_on = None

#: ``(index, table, column, partial WHERE or None)``.
INDEXES = (
    ('ix_purchases_occurred_at', 'purchases', 'occurred_at', None),
    ('ix_ledger_entries_created_at', 'ledger_entries', 'created_at', None),
    ('ix_vouchers_issued_at', 'vouchers', 'issued_at', None),
    ('ix_messages_sent_at', 'messages', 'sent_at', 'sent_at IS NOT NULL'),
    ('ix_journeys_converted_at', 'journeys', 'converted_at', 'converted_at IS NOT NULL'),
    ('ix_tier_changes_changed_at', 'tier_changes', 'changed_at', None),
)


def upgrade() -> None:
    # One point is worth 0.01 (stored in ten-thousandths, as every rate).
    with op.batch_alter_table('program_settings') as batch:
        batch.add_column(sa.Column('point_value', sa.BigInteger(), server_default='100', nullable=False))
    for name, table, column, where in INDEXES:
        partial = {} if where is None else {'postgresql_where': sa.text(where), 'sqlite_where': sa.text(where)}
        op.create_index(name, table, [column], unique=False, **partial)


def downgrade() -> None:
    for name, table, _column, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('program_settings') as batch:
        batch.drop_column('point_value')
