"""Outbound webhooks: subscriptions and their deliveries.

Revision ID: f3b7d1e9a5c2
Revises: a3c5e7f9b1d2
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'f3b7d1e9a5c2'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OPEN = "status IN ('pending', 'sending')"


def upgrade() -> None:
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', BIGINT_PK, primary_key=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.Column('event_types', sa.JSON(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('previous_secret', sa.String(length=100), nullable=True),
        sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paused_reason', sa.Text(), nullable=True),
        sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('dead_in_row', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions')),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', BIGINT_PK, primary_key=True),
        sa.Column('subscription_id', sa.BigInteger(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('member_id', sa.BigInteger(), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['subscription_id'], ['webhook_subscriptions.id'],
            name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('subscription_id', 'event_id', name='uq_webhook_deliveries_subscription_event'),
    )
    op.create_index(
        'ix_webhook_deliveries_due', 'webhook_deliveries', ['due_at', 'id'], unique=False,
        postgresql_where=sa.text('due_at IS NOT NULL'), sqlite_where=sa.text('due_at IS NOT NULL'),
    )
    op.create_index(
        'ix_webhook_deliveries_open', 'webhook_deliveries', ['subscription_id', 'member_id', 'id'], unique=False,
        postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
    )
    op.create_index('ix_webhook_deliveries_log', 'webhook_deliveries', ['subscription_id', 'id'], unique=False)
    op.create_index('ix_webhook_deliveries_member_id', 'webhook_deliveries', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_member_id', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_log', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_open', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
