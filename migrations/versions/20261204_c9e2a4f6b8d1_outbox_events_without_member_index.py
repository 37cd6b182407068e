"""The outbox's events lose their index on the member: nothing reads events by member (the consumers
read them by position, the sequencer by the unpublished index), and each event paid for it twice, at
its insert and again when the sequencer gave it its position.

Revision ID: c9e2a4f6b8d1
Revises: b3d5f7a9c1e2
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = 'c9e2a4f6b8d1'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_outbox_events_member_id', table_name='outbox_events')


def downgrade() -> None:
    op.create_index('ix_outbox_events_member_id', 'outbox_events', ['member_id'], unique=False)
