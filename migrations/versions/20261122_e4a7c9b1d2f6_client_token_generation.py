"""API clients: a token generation, moved on by a new secret or disabling the client.

Revision ID: e4a7c9b1d2f6
Revises: c5e9a1d3f7b2
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e4a7c9b1d2f6'
down_revision = 'c5e9a1d3f7b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_clients') as batch:
        batch.add_column(sa.Column('token_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('api_clients') as batch:
        batch.drop_column('token_generation')
