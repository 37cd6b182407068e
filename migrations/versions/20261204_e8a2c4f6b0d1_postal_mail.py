"""Postal mail: members' postal addresses and their consent to letters.

Revision ID: e8a2c4f6b0d1
Revises: d4f6b8a0c2e5
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e8a2c4f6b0d1'
down_revision = 'd4f6b8a0c2e5'
branch_labels = None
depends_on = None

COMPLETE = (
    "(address_line1 IS NULL) = (address_postcode IS NULL) AND (address_line1 IS NULL) = (address_city IS NULL)"
    " AND (address_line1 IS NULL) = (address_country IS NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('consent_postal', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('address_line1', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('address_line2', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('address_postcode', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('address_city', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('address_country', sa.String(length=2), nullable=True))
        batch.create_check_constraint('address_complete', COMPLETE)


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_constraint(op.f('ck_members_address_complete'), type_='check')
        for column in ('address_country', 'address_city', 'address_postcode', 'address_line2', 'address_line1', 'consent_postal'):
            batch.drop_column(column)
