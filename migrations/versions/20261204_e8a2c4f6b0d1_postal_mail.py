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

#: Columns added one by one, without rebuilding the table (``members`` has expression indexes that a batch
#: rebuild on SQLite would not carry over).
ADDRESS = (('address_line1', 100), ('address_line2', 100), ('address_postcode', 16), ('address_city', 100),
           ('address_country', 2))


def upgrade() -> None:
    op.add_column('members', sa.Column('consent_postal', sa.Boolean(), nullable=False, server_default=sa.false()))
    for name, length in ADDRESS:
        op.add_column('members', sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    for name, _ in reversed(ADDRESS):
        op.drop_column('members', name)
    op.drop_column('members', 'consent_postal')
