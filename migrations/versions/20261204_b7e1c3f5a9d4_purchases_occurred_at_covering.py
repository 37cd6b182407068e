"""Purchases by date carry the member, the total and the amount returned in the index, so that the
first, partial month of a segment's purchase window (and the dashboard's revenue over a period) is
read from the index alone, not from purchases spread over the whole table.

Revision ID: b7e1c3f5a9d4
Revises: c4d8e2a6f0b3
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = 'b7e1c3f5a9d4'
down_revision = 'c4d8e2a6f0b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_purchases_occurred_at', table_name='purchases')
    op.create_index(
        'ix_purchases_occurred_at', 'purchases', ['occurred_at'],
        postgresql_include=['member_id', 'total', 'returned_amount'],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index('ix_purchases_occurred_at', table_name='purchases')
    op.create_index('ix_purchases_occurred_at', 'purchases', ['occurred_at'])
