"""Due-work indexes end with the id: rows due at the same instant are claimed in id order.

Revision ID: f1b3d5a7c9e2
Revises: e4a7c9b1d2f6
Create Date: 2026-11-22 18:30:00
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = 'f1b3d5a7c9e2'
down_revision = 'e4a7c9b1d2f6'
branch_labels = None
depends_on = None

#: ``(index, table, column, partial WHERE or None)``: each becomes ``(column, id)``.
INDEXES = (
    ('ix_messages_due', 'messages', 'due_at', "status IN ('queued', 'sending')"),
    ('ix_journeys_due', 'journeys', 'due_at', "status = 'active'"),
    ('ix_members_tier_review_at', 'members', 'tier_review_at', None),
    ('ix_engagement_scores_drops_at', 'engagement_scores', 'drops_at', 'drops_at IS NOT NULL'),
    ('ix_purchases_pending_release_at', 'purchases', 'release_at', 'points_pending > 0'),
)


def _recreate(columns_of: Callable[[str], list[str]]) -> None:
    for name, table, column, where in INDEXES:
        partial = {} if where is None else {'postgresql_where': sa.text(where), 'sqlite_where': sa.text(where)}
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns_of(column), unique=False, **partial)


def upgrade() -> None:
    _recreate(lambda column: [column, 'id'])


def downgrade() -> None:
    _recreate(lambda column: [column])
