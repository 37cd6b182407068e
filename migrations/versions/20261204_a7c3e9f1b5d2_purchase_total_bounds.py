"""The largest purchase total the program accepts, per channel and per store.

Revision ID: a7c3e9f1b5d2
Revises: f1b3d5a7c9e2
Create Date: 2026-12-04 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9f1b5d2'
down_revision = 'f1b3d5a7c9e2'
branch_labels = None
depends_on = None

COLUMNS = ('max_total_by_channel', 'max_total_by_store')


def upgrade() -> None:
    with op.batch_alter_table('program_settings') as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('program_settings') as batch:
        for column in COLUMNS:
            batch.drop_column(column)
