"""Erasures: the record of each data-subject erasure, one per member.

Revision ID: d4f6b8a0c2e5
Revises: c9e1a3b5d7f4
Create Date: 2026-12-04 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd4f6b8a0c2e5'
down_revision = 'c9e1a3b5d7f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erasures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_erasures_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures')),
    sa.UniqueConstraint('member_id', name=op.f('uq_erasures_member_id'))
    )


def downgrade() -> None:
    op.drop_table('erasures')
