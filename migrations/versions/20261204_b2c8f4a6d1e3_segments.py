"""Segments: named audiences defined as data; promotions for a segment; campaigns of points awarded to a segment.

Revision ID: b2c8f4a6d1e3
Revises: a7d3e1c9b5f2
Create Date: 2026-12-04 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b2c8f4a6d1e3'
down_revision = 'a7d3e1c9b5f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('segments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('key', name=op.f('uq_segments_key'))
    )
    op.create_table('award_campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('segment_key', sa.String(length=64), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('members_awarded', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_award_campaigns_points_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_campaigns')),
    sa.UniqueConstraint('ref', name=op.f('uq_award_campaigns_ref'))
    )
    with op.batch_alter_table('earning_rules') as batch:
        batch.add_column(sa.Column('segment_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('earning_rules') as batch:
        batch.drop_column('segment_key')
    op.drop_table('award_campaigns')
    op.drop_table('segments')
