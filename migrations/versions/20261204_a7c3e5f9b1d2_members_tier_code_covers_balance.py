"""The members' index on the tier carries the balance: members by tier, members in total and the points
outstanding are counted in one index-only scan.

Revision ID: a7c3e5f9b1d2
Revises: b7e1c3f5a9d4
Create Date: 2026-12-04 18:15:00
"""

from __future__ import annotations

from alembic import op

revision = 'a7c3e5f9b1d2'
down_revision = 'b7e1c3f5a9d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_members_tier_code', table_name='members')
    op.create_index('ix_members_tier_code', 'members', ['tier_code'], unique=False, postgresql_include=['points_balance'])


def downgrade() -> None:
    op.drop_index('ix_members_tier_code', table_name='members')
    op.create_index('ix_members_tier_code', 'members', ['tier_code'], unique=False)
