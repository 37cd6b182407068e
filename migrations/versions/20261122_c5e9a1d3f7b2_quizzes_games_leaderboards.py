"""Quizzes, instant-win games, leaderboards.

Revision ID: c5e9a1d3f7b2
Revises: 8d2b7e4c1a95
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c5e9a1d3f7b2'
down_revision = '8d2b7e4c1a95'
branch_labels = None
depends_on = None

#: Children first: the order ``downgrade`` drops them in.
TABLES = (
    'game_plays',
    'game_play_credits',
    'game_prizes',
    'games',
    'quiz_attempts',
    'quiz_questions',
    'quizzes',
    'leaderboard_scores',
    'leaderboard_profiles',
    'leaderboards',
)


def upgrade() -> None:
    op.create_table('games',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('no_prize_weight', sa.BigInteger(), nullable=False),
    sa.Column('earn_on', sa.String(length=16), nullable=False),
    sa.Column('earn_min_total', sa.BigInteger(), nullable=True),
    sa.Column('earn_action_key', sa.String(length=64), nullable=True),
    sa.CheckConstraint("(earn_on = 'engagement') = (earn_action_key IS NOT NULL)", name=op.f('ck_games_engagement_has_action')),
    sa.CheckConstraint("earn_on = 'purchase' OR earn_min_total IS NULL", name=op.f('ck_games_min_total_for_purchases')),
    sa.CheckConstraint("earn_on IN ('purchase', 'engagement')", name=op.f('ck_games_earn_on_known')),
    sa.CheckConstraint("kind IN ('wheel', 'scratch')", name=op.f('ck_games_kind_known')),
    sa.CheckConstraint('no_prize_weight >= 0', name=op.f('ck_games_no_prize_weight_not_negative')),
    sa.CheckConstraint('starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at', name=op.f('ck_games_window_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_games')),
    sa.UniqueConstraint('code', name=op.f('uq_games_code'))
    )
    op.create_table('leaderboards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('periods', sa.JSON(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("metric IN ('points')", name=op.f('ck_leaderboards_metric_known')),
    sa.CheckConstraint("scope IN ('all', 'store')", name=op.f('ck_leaderboards_scope_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaderboards')),
    sa.UniqueConstraint('key', name=op.f('uq_leaderboards_key'))
    )
    op.create_table('quizzes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('points_per_correct', sa.BigInteger(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('points_per_correct >= 0', name=op.f('ck_quizzes_points_not_negative')),
    sa.CheckConstraint('starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at', name=op.f('ck_quizzes_window_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quizzes')),
    sa.UniqueConstraint('code', name=op.f('uq_quizzes_code'))
    )
    op.create_table('game_play_credits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('game_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_type', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('earned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['game_id'], ['games.id'], name=op.f('fk_game_play_credits_game_id_games')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_game_play_credits_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_game_play_credits')),
    sa.UniqueConstraint('game_id', 'member_id', 'source_type', 'source_id', name=op.f('uq_game_play_credits_game_id_member_id_source_type_source_id'))
    )
    op.create_index('ix_game_play_credits_member_id', 'game_play_credits', ['member_id'], unique=False)
    op.create_index('ix_game_play_credits_unspent', 'game_play_credits', ['game_id', 'member_id', 'id'], unique=False, postgresql_where=sa.text('spent_at IS NULL'), sqlite_where=sa.text('spent_at IS NULL'))
    op.create_table('leaderboard_profiles',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('display_name', sa.String(length=32), nullable=False),
    sa.Column('opted_in', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_leaderboard_profiles_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_leaderboard_profiles'))
    )
    op.create_table('leaderboard_scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('is_listed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_leaderboard_scores_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaderboard_scores')),
    sa.UniqueConstraint('metric', 'period_key', 'scope', 'member_id', name=op.f('uq_leaderboard_scores_metric_period_key_scope_member_id'))
    )
    op.create_index('ix_leaderboard_scores_member_id', 'leaderboard_scores', ['member_id'], unique=False)
    # The top N is the start of this index; a member's rank counts the entries above their points.
    op.create_index(
        'ix_leaderboard_scores_ranking',
        'leaderboard_scores',
        ['metric', 'period_key', 'scope', sa.text('points DESC')],
        unique=False,
        postgresql_where=sa.text('is_listed'),
        sqlite_where=sa.text('is_listed = 1'),
    )
    op.create_table('quiz_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quiz_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('correct_count', sa.Integer(), nullable=False),
    sa.Column('question_count', sa.Integer(), nullable=False),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.CheckConstraint('correct_count >= 0 AND correct_count <= question_count', name=op.f('ck_quiz_attempts_correct_within_questions')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_quiz_attempts_member_id_members')),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_attempts_quiz_id_quizzes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempts')),
    sa.UniqueConstraint('quiz_id', 'member_id', name=op.f('uq_quiz_attempts_quiz_id_member_id'))
    )
    op.create_index('ix_quiz_attempts_member_id', 'quiz_attempts', ['member_id'], unique=False)
    op.create_table('quiz_questions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quiz_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('multiple', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('correct', sa.JSON(), nullable=False),
    sa.CheckConstraint('position > 0', name=op.f('ck_quiz_questions_position_positive')),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_questions_quiz_id_quizzes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_questions')),
    sa.UniqueConstraint('quiz_id', 'position', name=op.f('uq_quiz_questions_quiz_id_position'))
    )
    op.create_table('game_prizes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('game_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('weight', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=True),
    sa.Column('reward_code', sa.String(length=64), nullable=True),
    sa.Column('stock', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("kind <> 'points' OR points > 0", name=op.f('ck_game_prizes_points_prize_has_points')),
    sa.CheckConstraint("kind <> 'reward' OR reward_code IS NOT NULL", name=op.f('ck_game_prizes_reward_prize_has_reward')),
    sa.CheckConstraint("kind IN ('points', 'reward')", name=op.f('ck_game_prizes_kind_known')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_game_prizes_stock_not_negative')),
    sa.CheckConstraint('weight >= 0', name=op.f('ck_game_prizes_weight_not_negative')),
    sa.ForeignKeyConstraint(['game_id'], ['games.id'], name=op.f('fk_game_prizes_game_id_games')),
    sa.ForeignKeyConstraint(['reward_code'], ['rewards.code'], name=op.f('fk_game_prizes_reward_code_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_game_prizes')),
    sa.UniqueConstraint('game_id', 'code', name=op.f('uq_game_prizes_game_id_code'))
    )
    op.create_table('game_plays',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('game_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('played_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('draw_value', sa.BigInteger(), nullable=False),
    sa.Column('draw_total', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('prize_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('prize_code', sa.String(length=64), nullable=True),
    sa.Column('stock_after', sa.BigInteger(), nullable=True),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("(outcome = 'no_prize') = (prize_id IS NULL)", name=op.f('ck_game_plays_prize_unless_no_prize')),
    sa.CheckConstraint("outcome IN ('prize', 'no_prize', 'out_of_stock')", name=op.f('ck_game_plays_outcome_known')),
    sa.CheckConstraint('draw_value >= 0 AND draw_value < draw_total', name=op.f('ck_game_plays_draw_within_total')),
    sa.ForeignKeyConstraint(['credit_id'], ['game_play_credits.id'], name=op.f('fk_game_plays_credit_id_game_play_credits')),
    sa.ForeignKeyConstraint(['game_id'], ['games.id'], name=op.f('fk_game_plays_game_id_games')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_game_plays_member_id_members')),
    sa.ForeignKeyConstraint(['prize_id'], ['game_prizes.id'], name=op.f('fk_game_plays_prize_id_game_prizes')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_game_plays_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_game_plays')),
    sa.UniqueConstraint('credit_id', name=op.f('uq_game_plays_credit_id'))
    )
    op.create_index('ix_game_plays_game_id_id', 'game_plays', ['game_id', 'id'], unique=False)
    op.create_index('ix_game_plays_member_id_id', 'game_plays', ['member_id', 'id'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes.
    for table in TABLES:
        op.drop_table(table)
