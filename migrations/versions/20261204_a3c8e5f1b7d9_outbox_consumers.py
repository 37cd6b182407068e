"""Outbox consumers: each event's position in commit order, each consumer's cursor, dead letters.

Revision ID: a3c8e5f1b7d9
Revises: a7c3e9f1b5d2
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a3c8e5f1b7d9'
down_revision = 'a7c3e9f1b5d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox_events', sa.Column('position', sa.BigInteger(), nullable=True))
    op.create_index('ux_outbox_events_position', 'outbox_events', ['position'], unique=True)
    op.create_table(
        'outbox_cursors',
        sa.Column('consumer', sa.String(length=64), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('consumer', name='pk_outbox_cursors'),
    )
    op.create_table(
        'outbox_dead_letters',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('consumer', sa.String(length=64), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('member_id', sa.BigInteger(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_outbox_dead_letters'),
        sa.UniqueConstraint('consumer', 'event_id', name='uq_outbox_dead_letters_consumer_event'),
    )
    # Events published before the consumers existed have been handled: they are behind every cursor.
    op.execute("UPDATE outbox_events SET position = id WHERE published_at IS NOT NULL")


def downgrade() -> None:
    op.drop_table('outbox_dead_letters')
    op.drop_table('outbox_cursors')
    op.drop_index('ux_outbox_events_position', table_name='outbox_events')
    op.drop_column('outbox_events', 'position')
