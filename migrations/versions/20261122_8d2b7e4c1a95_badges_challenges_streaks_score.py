"""Badges, challenges, streaks, engagement score.

Revision ID: 8d2b7e4c1a95
Revises: 3f1a9c2e7b40
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '8d2b7e4c1a95'
down_revision = '3f1a9c2e7b40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('badges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('is_hidden', sa.Boolean(), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('qualifier', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("metric IN ('purchases', 'category_purchases', 'reviews', 'store_visits', 'shares', 'referrals', 'lifetime_points', 'tier', 'streak', 'challenges_completed')", name=op.f('ck_badges_metric_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badges')),
    sa.UniqueConstraint('code', name=op.f('uq_badges_code'))
    )
    op.create_table('engagement_score_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('half_life_days', sa.Float(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('engaged_from', sa.Float(), nullable=False),
    sa.Column('at_risk_from', sa.Float(), nullable=False),
    sa.CheckConstraint('engaged_from > at_risk_from AND at_risk_from > 0', name=op.f('ck_engagement_score_settings_boundaries_ordered')),
    sa.CheckConstraint('half_life_days > 0', name=op.f('ck_engagement_score_settings_half_life_positive')),
    sa.CheckConstraint('id = 1', name=op.f('ck_engagement_score_settings_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_score_settings'))
    )
    op.create_table('streaks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('counts_purchases', sa.Boolean(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("period IN ('day', 'week')", name=op.f('ck_streaks_period_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_streaks')),
    sa.UniqueConstraint('code', name=op.f('uq_streaks_code'))
    )
    op.create_table('badge_levels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('badge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=True),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('points >= 0', name=op.f('ck_badge_levels_points_not_negative')),
    sa.CheckConstraint('rank > 0', name=op.f('ck_badge_levels_rank_positive')),
    sa.CheckConstraint('target > 0', name=op.f('ck_badge_levels_target_positive')),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_badge_levels_badge_id_badges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_levels')),
    sa.UniqueConstraint('badge_id', 'rank', name=op.f('uq_badge_levels_badge_id_rank'))
    )
    op.create_table('engagement_scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('drops_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("level IN ('engaged', 'at_risk', 'dormant')", name=op.f('ck_engagement_scores_level_known')),
    sa.CheckConstraint('score >= 0', name=op.f('ck_engagement_scores_score_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_engagement_scores_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_scores')),
    sa.UniqueConstraint('member_id', name=op.f('uq_engagement_scores_member_id'))
    )
    with op.batch_alter_table('engagement_scores', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_scores_drops_at', ['drops_at'], unique=False, postgresql_where=sa.text('drops_at IS NOT NULL'), sqlite_where=sa.text('drops_at IS NOT NULL'))

    op.create_table('member_badges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('badge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_member_badges_badge_id_badges')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_badges_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_badges')),
    sa.UniqueConstraint('member_id', 'badge_id', 'level', name=op.f('uq_member_badges_member_id_badge_id_level'))
    )
    op.create_table('member_metrics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('qualifier', sa.String(length=64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_metrics_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_metrics')),
    sa.UniqueConstraint('member_id', 'metric', 'qualifier', name=op.f('uq_member_metrics_member_id_metric_qualifier'))
    )
    op.create_table('member_streaks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('streak_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('current', sa.Integer(), nullable=False),
    sa.Column('best', sa.Integer(), nullable=False),
    sa.Column('last_period', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('current > 0 AND best >= current', name=op.f('ck_member_streaks_run_within_best')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_streaks_member_id_members')),
    sa.ForeignKeyConstraint(['streak_id'], ['streaks.id'], name=op.f('fk_member_streaks_streak_id_streaks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_streaks')),
    sa.UniqueConstraint('member_id', 'streak_id', name=op.f('uq_member_streaks_member_id_streak_id'))
    )
    op.create_table('challenges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_ordered', sa.Boolean(), nullable=False),
    sa.Column('requires_join', sa.Boolean(), nullable=False),
    sa.Column('reward_points', sa.BigInteger(), nullable=False),
    sa.Column('reward_badge_code', sa.String(length=64), nullable=True),
    sa.Column('reward_code', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('ends_at IS NULL OR ends_at > starts_at', name=op.f('ck_challenges_window_ordered')),
    sa.CheckConstraint('reward_points >= 0', name=op.f('ck_challenges_reward_points_not_negative')),
    sa.ForeignKeyConstraint(['reward_badge_code'], ['badges.code'], name=op.f('fk_challenges_reward_badge_code_badges')),
    sa.ForeignKeyConstraint(['reward_code'], ['rewards.code'], name=op.f('fk_challenges_reward_code_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenges')),
    sa.UniqueConstraint('code', name=op.f('uq_challenges_code'))
    )
    op.create_table('challenge_participations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('challenge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_participations_challenge_id_challenges')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_challenge_participations_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_participations')),
    sa.UniqueConstraint('member_id', 'challenge_id', name=op.f('uq_challenge_participations_member_id_challenge_id'))
    )
    op.create_table('challenge_steps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('challenge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'engagement') = (action IS NOT NULL)", name=op.f('ck_challenge_steps_engagement_has_action')),
    sa.CheckConstraint("kind = 'purchase' OR category IS NULL", name=op.f('ck_challenge_steps_category_for_purchases')),
    sa.CheckConstraint("kind IN ('purchase', 'engagement')", name=op.f('ck_challenge_steps_kind_known')),
    sa.CheckConstraint('count > 0', name=op.f('ck_challenge_steps_count_positive')),
    sa.CheckConstraint('position > 0', name=op.f('ck_challenge_steps_position_positive')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_steps_challenge_id_challenges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_steps')),
    sa.UniqueConstraint('challenge_id', 'position', name=op.f('uq_challenge_steps_challenge_id_position'))
    )
    op.create_table('challenge_progress',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('participation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participation_id'], ['challenge_participations.id'], name=op.f('fk_challenge_progress_participation_id_challenge_participations')),
    sa.ForeignKeyConstraint(['step_id'], ['challenge_steps.id'], name=op.f('fk_challenge_progress_step_id_challenge_steps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_progress')),
    sa.UniqueConstraint('participation_id', 'step_id', name=op.f('uq_challenge_progress_participation_id_step_id'))
    )


def downgrade() -> None:
    op.drop_table('challenge_progress')
    op.drop_table('challenge_steps')
    op.drop_table('challenge_participations')
    op.drop_table('challenges')
    op.drop_table('member_streaks')
    op.drop_table('member_metrics')
    op.drop_table('member_badges')
    with op.batch_alter_table('engagement_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_scores_drops_at', postgresql_where=sa.text('drops_at IS NOT NULL'), sqlite_where=sa.text('drops_at IS NOT NULL'))

    op.drop_table('engagement_scores')
    op.drop_table('badge_levels')
    op.drop_table('streaks')
    op.drop_table('engagement_score_settings')
    op.drop_table('badges')
