"""Custom events: event types with a JSON Schema, posted events, engagement actions bound to a type.

Revision ID: a7d3e1c9b5f2
Revises: a7d2e4f6b8c1
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a7d3e1c9b5f2'
down_revision = 'a7d2e4f6b8c1'
branch_labels = None
depends_on = None


#: The badge metrics before and after ``custom_events``.
METRICS = ('purchases', 'category_purchases', 'reviews', 'store_visits', 'shares', 'referrals', 'lifetime_points', 'tier', 'streak', 'challenges_completed')
NEW_METRICS = (*METRICS, 'custom_events')


def _badge_metrics(names: tuple[str, ...]) -> None:
    with op.batch_alter_table('badges') as batch:
        batch.drop_constraint(op.f('ck_badges_metric_known'), type_='check')
        batch.create_check_constraint('metric_known', f"metric IN ({', '.join(repr(name) for name in names)})")


def upgrade() -> None:
    op.create_table('custom_event_types',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('json_schema', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_event_types')),
    sa.UniqueConstraint('key', name=op.f('uq_custom_event_types_key'))
    )
    op.create_table('custom_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_custom_events_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_events')),
    sa.UniqueConstraint('event_type', 'ref', name=op.f('uq_custom_events_event_type_ref'))
    )
    op.create_index('ix_custom_events_member_id_event_type_occurred_at', 'custom_events', ['member_id', 'event_type', 'occurred_at'], unique=False)
    op.create_index('ix_custom_events_event_type_member_id', 'custom_events', ['event_type', 'member_id'], unique=False)
    with op.batch_alter_table('engagement_actions') as batch:
        batch.add_column(sa.Column('event_type', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('conditions', sa.JSON(), nullable=True))
        batch.create_check_constraint('conditions_on_event', 'conditions IS NULL OR event_type IS NOT NULL')
    _badge_metrics(NEW_METRICS)


def downgrade() -> None:
    _badge_metrics(METRICS)
    with op.batch_alter_table('engagement_actions') as batch:
        batch.drop_constraint(op.f('ck_engagement_actions_conditions_on_event'), type_='check')
        batch.drop_column('conditions')
        batch.drop_column('event_type')
    op.drop_index('ix_custom_events_event_type_member_id', table_name='custom_events')
    op.drop_index('ix_custom_events_member_id_event_type_occurred_at', table_name='custom_events')
    op.drop_table('custom_events')
    op.drop_table('custom_event_types')
