"""Segments: the purchase history summarised per member (monthly counts and spend, categories' last
purchase), back-filled from the purchases; kept from now on by the ``segment-history`` consumer.

Revision ID: f2b4d6a8c0e1
Revises: e8a2c4f6b0d1
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'f2b4d6a8c0e1'
down_revision = 'e8a2c4f6b0d1'
branch_labels = None
depends_on = None

#: The first instant of a purchase's UTC month, as each database stores an instant.
MONTH = {
    'postgresql': "date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    'sqlite': "strftime('%Y-%m-01 00:00:00.000000', occurred_at)",
}


def upgrade() -> None:
    op.create_table(
        'member_purchase_months',
        sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('month', sa.DateTime(timezone=True), nullable=False),
        sa.Column('purchases', sa.Integer(), nullable=False),
        sa.Column('spend', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_purchase_months_member_id_members')),
        sa.PrimaryKeyConstraint('member_id', 'month', name=op.f('pk_member_purchase_months')),
    )
    op.create_index('ix_member_purchase_months_month', 'member_purchase_months', ['month', 'member_id'],
                    postgresql_include=['purchases', 'spend'])
    op.create_table(
        'member_categories',
        sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('last_bought_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_categories_member_id_members')),
        sa.PrimaryKeyConstraint('member_id', 'category', name=op.f('pk_member_categories')),
    )
    op.create_index('ix_member_categories_category_last_bought_at', 'member_categories', ['category', 'last_bought_at'],
                    postgresql_include=['member_id'])
    month = MONTH[op.get_bind().dialect.name]
    op.execute(
        f"""
        INSERT INTO member_purchase_months (member_id, month, purchases, spend)
        SELECT member_id, {month}, count(*), sum(total - returned_amount)
        FROM purchases WHERE member_id IS NOT NULL GROUP BY member_id, {month}
        """
    )
    op.execute(
        """
        INSERT INTO member_categories (member_id, category, last_bought_at)
        SELECT p.member_id, l.category, max(p.occurred_at)
        FROM purchases AS p JOIN purchase_lines AS l ON l.purchase_id = p.id
        WHERE p.member_id IS NOT NULL AND l.category IS NOT NULL
        GROUP BY p.member_id, l.category
        """
    )


def downgrade() -> None:
    op.drop_index('ix_member_categories_category_last_bought_at', table_name='member_categories')
    op.drop_table('member_categories')
    op.drop_index('ix_member_purchase_months_month', table_name='member_purchase_months')
    op.drop_table('member_purchase_months')
