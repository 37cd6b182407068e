"""Segments: each member's purchase count and spend over rolling windows of 30, 90, 180 and 365 days,
and the anchor they are counted from. The anchor is left empty: the ``purchase-windows`` maintenance
task counts every member at its first run (``flask --app wsgi loyalty run-due``, or the scheduler),
the segment conditions reading the monthly summary until then.

Revision ID: b3d5f7a9c1e2
Revises: a7c3e5f9b1d2
Create Date: 2026-12-04 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b3d5f7a9c1e2'
down_revision = 'a7c3e5f9b1d2'
branch_labels = None
depends_on = None

WINDOWS = (30, 90, 180, 365)


def upgrade() -> None:
    figures = []
    for days in WINDOWS:
        figures += [sa.Column(f'purchases_{days}', sa.Integer(), nullable=False), sa.Column(f'spend_{days}', sa.BigInteger(), nullable=False)]
    op.create_table(
        'member_purchase_windows',
        sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        *figures,
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_purchase_windows_member_id_members')),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_purchase_windows')),
    )
    anchor = op.create_table(
        'purchase_windows_anchor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('as_of', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_windows_anchor')),
    )
    op.bulk_insert(anchor, [{'id': 1, 'as_of': None}])


def downgrade() -> None:
    op.drop_table('purchase_windows_anchor')
    op.drop_table('member_purchase_windows')
