"""The dashboard's roll-up: the figures of each closed day; members by tier and by engagement level counted
on an index.

Revision ID: c4d8e2a6f0b3
Revises: f3b7d1e9a5c2
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c4d8e2a6f0b3'
down_revision = 'f3b7d1e9a5c2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dashboard_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('figure', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'figure', 'key', name=op.f('pk_dashboard_days')),
    )
    op.create_table(
        'dashboard_day_runs',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_dashboard_day_runs')),
    )
    op.create_index('ix_members_tier_code', 'members', ['tier_code'], unique=False)
    op.create_index('ix_engagement_scores_level', 'engagement_scores', ['level'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_engagement_scores_level', table_name='engagement_scores')
    op.drop_index('ix_members_tier_code', table_name='members')
    op.drop_table('dashboard_day_runs')
    op.drop_table('dashboard_days')
