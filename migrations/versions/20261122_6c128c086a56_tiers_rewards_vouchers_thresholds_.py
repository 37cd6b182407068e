"""Tiers, rewards, vouchers, thresholds, engagement, point lots, pending points.

Revision ID: 6c128c086a56
Revises: 72275addd3bd
Create Date: 2026-11-22 12:54:12.845575
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '6c128c086a56'
down_revision = '72275addd3bd'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('engagement_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('once_per_member', sa.Boolean(), nullable=False),
    sa.Column('max_per_period', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=8), nullable=True),
    sa.Column('cooldown_minutes', sa.Integer(), nullable=True),
    sa.Column('self_reportable', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("period IS NULL OR period IN ('day', 'week', 'month')", name=op.f('ck_engagement_actions_period_known')),
    sa.CheckConstraint('(max_per_period IS NULL) = (period IS NULL)', name=op.f('ck_engagement_actions_limit_has_period')),
    sa.CheckConstraint('cooldown_minutes IS NULL OR cooldown_minutes > 0', name=op.f('ck_engagement_actions_cooldown_positive')),
    sa.CheckConstraint('max_per_period IS NULL OR max_per_period > 0', name=op.f('ck_engagement_actions_limit_positive')),
    sa.CheckConstraint('points >= 0', name=op.f('ck_engagement_actions_points_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_actions')),
    sa.UniqueConstraint('key', name=op.f('uq_engagement_actions_key'))
    )
    op.create_table('tiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.BigInteger(), nullable=False),
    sa.Column('multiplier', sa.BigInteger(), nullable=False),
    sa.Column('benefits', sa.JSON(), nullable=False),
    sa.Column('has_card', sa.Boolean(), nullable=False),
    sa.CheckConstraint('multiplier >= 0', name=op.f('ck_tiers_multiplier_not_negative')),
    sa.CheckConstraint('rank >= 0', name=op.f('ck_tiers_rank_not_negative')),
    sa.CheckConstraint('threshold >= 0', name=op.f('ck_tiers_threshold_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiers')),
    sa.UniqueConstraint('code', name=op.f('uq_tiers_code'))
    )
    op.create_table('rewards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('cost_points', sa.BigInteger(), nullable=False),
    sa.Column('min_tier_code', sa.String(length=32), nullable=True),
    sa.Column('stock', sa.BigInteger(), nullable=True),
    sa.Column('validity_days', sa.Integer(), nullable=False),
    sa.Column('active_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind <> 'fixed_voucher' OR amount > 0", name=op.f('ck_rewards_fixed_voucher_has_amount')),
    sa.CheckConstraint("kind <> 'percent_voucher' OR (percent > 0 AND percent <= 100)", name=op.f('ck_rewards_percent_in_range')),
    sa.CheckConstraint("kind IN ('fixed_voucher', 'percent_voucher', 'gift', 'free_shipping', 'event_invitation')", name=op.f('ck_rewards_kind_known')),
    sa.CheckConstraint('active_from IS NULL OR active_until IS NULL OR active_from < active_until', name=op.f('ck_rewards_window_ordered')),
    sa.CheckConstraint('cost_points >= 0', name=op.f('ck_rewards_cost_not_negative')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_rewards_stock_not_negative')),
    sa.CheckConstraint('validity_days > 0', name=op.f('ck_rewards_validity_positive')),
    sa.ForeignKeyConstraint(['min_tier_code'], ['tiers.code'], name=op.f('fk_rewards_min_tier_code_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards')),
    sa.UniqueConstraint('code', name=op.f('uq_rewards_code'))
    )
    op.create_table('card_issuances',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tier_code', sa.String(length=32), nullable=False, server_default='member'),
    sa.Column('card_number', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'printed', 'shipped')", name=op.f('ck_card_issuances_status_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_card_issuances_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_issuances')),
    sa.UniqueConstraint('card_number', name=op.f('uq_card_issuances_card_number'))
    )
    with op.batch_alter_table('card_issuances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_issuances_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_card_issuances_status', ['status', 'id'], unique=False)

    op.create_table('engagements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action_key', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=128), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_engagements_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagements')),
    sa.UniqueConstraint('member_id', 'action_key', 'ref', name=op.f('uq_engagements_member_id_action_key_ref'))
    )
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.create_index('ix_engagements_member_id_action_key_occurred_at', ['member_id', 'action_key', 'occurred_at'], unique=False)

    op.create_table('point_thresholds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reward_code', sa.String(length=64), nullable=False),
    sa.Column('auto_issue', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_point_thresholds_points_positive')),
    sa.ForeignKeyConstraint(['reward_code'], ['rewards.code'], name=op.f('fk_point_thresholds_reward_code_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_thresholds')),
    sa.UniqueConstraint('points', name=op.f('uq_point_thresholds_points'))
    )
    op.create_table('tier_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_code', sa.String(length=32), nullable=True),
    sa.Column('to_code', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('qualifying_points', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_tier_changes_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_changes'))
    )
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.create_index('ix_tier_changes_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('vouchers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('points_cost', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('redeemed_store_code', sa.String(length=32), nullable=True),
    sa.Column('redeemed_receipt_no', sa.String(length=64), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'redeemed') = (redeemed_at IS NOT NULL)", name=op.f('ck_vouchers_redeemed_has_time')),
    sa.CheckConstraint("status IN ('issued', 'redeemed', 'cancelled')", name=op.f('ck_vouchers_status_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_vouchers_member_id_members')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_vouchers_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code', name=op.f('uq_vouchers_code'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_vouchers_member_id_status', ['member_id', 'status'], unique=False)

    op.create_table('point_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('earned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('expiry_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_point_lots_remaining_within_points')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_point_lots_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_point_lots_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_lots'))
    )
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.create_index('ix_point_lots_member_id_expires_at', ['member_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_point_lots_open_expires_at', ['expires_at'], unique=False, postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_qualifying', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_ledger_entries_member_id_created_at', ['member_id', 'created_at'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_points', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('lifetime_points', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('tier_code', sa.String(length=32), nullable=False, server_default='member'))
        batch_op.add_column(sa.Column('tier_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tier_review_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('referral_rewarded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_members_tier_review_at', ['tier_review_at'], unique=False)

    with op.batch_alter_table('program_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_expiry_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expiry_notice_days', sa.Integer(), nullable=False, server_default='30'))
        batch_op.add_column(sa.Column('pending_days', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('tier_window_months', sa.Integer(), nullable=False, server_default='12'))
        batch_op.add_column(sa.Column('tier_review_month_day', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('referral_min_amount', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('referral_referee_points', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('profile_fields', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('config_token', sa.String(length=32), nullable=False, server_default='initial'))

    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_pending', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('release_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_purchases_pending_release_at', ['release_at'], unique=False, postgresql_where=sa.text('points_pending > 0'), sqlite_where=sa.text('points_pending > 0'))




    # Existing members: in the entry tier since they enrolled, their balance in one never-expiring lot
    # (the points earned before expiry existed keep no date), so that lots hold max(balance, 0).
    op.execute("UPDATE members SET tier_since = enrolled_at")
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.alter_column('tier_since', existing_type=sa.DateTime(timezone=True), nullable=False)
    op.execute(
        """
        INSERT INTO point_lots (member_id, entry_id, earned_at, expires_at, points, remaining)
        SELECT m.id,
               (SELECT max(e.id) FROM ledger_entries e WHERE e.member_id = m.id AND e.points > 0),
               m.updated_at, NULL, m.points_balance, m.points_balance
        FROM members m
        WHERE m.points_balance > 0
        """
    )
    op.execute(
        "UPDATE ledger_entries SET is_qualifying = (kind = 'earn' OR (kind = 'reverse' AND source_type = 'purchase'))"
    )
    op.execute(
        """
        UPDATE members SET lifetime_points = COALESCE(
            (SELECT sum(e.points) FROM ledger_entries e WHERE e.member_id = members.id AND e.is_qualifying), 0)
        """
    )

def downgrade() -> None:
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_purchases_pending_release_at', postgresql_where=sa.text('points_pending > 0'), sqlite_where=sa.text('points_pending > 0'))
        batch_op.drop_column('release_at')
        batch_op.drop_column('points_pending')

    with op.batch_alter_table('program_settings', schema=None) as batch_op:
        batch_op.drop_column('config_token')
        batch_op.drop_column('profile_fields')
        batch_op.drop_column('referral_referee_points')
        batch_op.drop_column('referral_min_amount')
        batch_op.drop_column('tier_review_month_day')
        batch_op.drop_column('tier_window_months')
        batch_op.drop_column('pending_days')
        batch_op.drop_column('expiry_notice_days')
        batch_op.drop_column('points_expiry_months')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_tier_review_at')
        batch_op.drop_column('referral_rewarded_at')
        batch_op.drop_column('tier_review_at')
        batch_op.drop_column('tier_since')
        batch_op.drop_column('tier_code')
        batch_op.drop_column('lifetime_points')
        batch_op.drop_column('pending_points')

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_member_id_created_at')
        batch_op.drop_column('is_qualifying')

    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_point_lots_open_expires_at', postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))
        batch_op.drop_index('ix_point_lots_member_id_expires_at')

    op.drop_table('point_lots')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_vouchers_member_id_status')

    op.drop_table('vouchers')
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_changes_member_id_id')

    op.drop_table('tier_changes')
    op.drop_table('point_thresholds')
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index('ix_engagements_member_id_action_key_occurred_at')

    op.drop_table('engagements')
    with op.batch_alter_table('card_issuances', schema=None) as batch_op:
        batch_op.drop_index('ix_card_issuances_status')
        batch_op.drop_index(batch_op.f('ix_card_issuances_member_id'))

    op.drop_table('card_issuances')
    op.drop_table('rewards')
    op.drop_table('tiers')
    op.drop_table('engagement_actions')

