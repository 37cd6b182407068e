"""Core schema: members, ledger, purchases and returns, program, API clients, outbox.

Revision ID: 72275addd3bd
Revises: 
Create Date: 2026-11-22 12:09:10.906354
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op



revision = '72275addd3bd'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('api_clients',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('store_code', sa.String(length=32), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'till') = (store_code IS NOT NULL)", name=op.f('ck_api_clients_till_has_store')),
    sa.CheckConstraint("role IN ('admin', 'till', 'service')", name=op.f('ck_api_clients_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_api_clients_client_id')),
    sa.UniqueConstraint('name', name=op.f('uq_api_clients_name'))
    )
    op.create_table('earning_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('multiplier', sa.BigInteger(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind <> 'category' OR category IS NOT NULL", name=op.f('ck_earning_rules_category_rule_has_category')),
    sa.CheckConstraint("kind IN ('category', 'promotion')", name=op.f('ck_earning_rules_kind_known')),
    sa.CheckConstraint('multiplier >= 0', name=op.f('ck_earning_rules_multiplier_not_negative')),
    sa.CheckConstraint('starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at', name=op.f('ck_earning_rules_window_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earning_rules'))
    )
    op.create_table('idempotency_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('principal', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('principal', 'key', name=op.f('uq_idempotency_keys_principal_key'))
    )
    op.create_table('members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('card_number', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('consent_email', sa.Boolean(), nullable=False),
    sa.Column('consent_sms', sa.Boolean(), nullable=False),
    sa.Column('consent_push', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('referral_code', sa.String(length=16), nullable=False),
    sa.Column('sponsor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('points_balance', sa.BigInteger(), nullable=False),
    sa.Column('purchase_count', sa.BigInteger(), nullable=False),
    sa.Column('last_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('purchase_count >= 0', name=op.f('ck_members_purchase_count_not_negative')),
    sa.ForeignKeyConstraint(['sponsor_id'], ['members.id'], name=op.f('fk_members_sponsor_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('card_number', name=op.f('uq_members_card_number')),
    sa.UniqueConstraint('email', name=op.f('uq_members_email')),
    sa.UniqueConstraint('external_id', name=op.f('uq_members_external_id')),
    sa.UniqueConstraint('referral_code', name=op.f('uq_members_referral_code'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_enrolled_at', ['enrolled_at'], unique=False)
        batch_op.create_index('ix_members_last_purchase_at', ['last_purchase_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_sponsor_id'), ['sponsor_id'], unique=False)

    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_events_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_outbox_events_unpublished', ['id'], unique=False, postgresql_where=sa.text('published_at IS NULL'), sqlite_where=sa.text('published_at IS NULL'))

    op.create_table('program_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('points_per_unit', sa.BigInteger(), nullable=False),
    sa.Column('minimum_amount', sa.BigInteger(), nullable=False),
    sa.Column('claim_window_days', sa.Integer(), nullable=False),
    sa.Column('default_timezone', sa.String(length=64), nullable=False),
    sa.Column('default_locale', sa.String(length=16), nullable=False),
    sa.CheckConstraint('claim_window_days >= 0', name=op.f('ck_program_settings_claim_window_not_negative')),
    sa.CheckConstraint('id = 1', name=op.f('ck_program_settings_single_row')),
    sa.CheckConstraint('minimum_amount >= 0', name=op.f('ck_program_settings_minimum_amount_not_negative')),
    sa.CheckConstraint('points_per_unit >= 0', name=op.f('ck_program_settings_points_per_unit_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_program_settings'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=True),
    sa.Column('source_id', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('earn', 'bonus', 'redeem', 'reverse', 'expire', 'adjust')", name=op.f('ck_ledger_entries_kind_known')),
    sa.CheckConstraint('points <> 0', name=op.f('ck_ledger_entries_points_not_zero')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_ledger_entries_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index('ix_ledger_entries_source', ['source_type', 'source_id'], unique=False)

    op.create_table('member_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_sessions_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_sessions'))
    )
    with op.batch_alter_table('member_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_sessions_member_id'), ['member_id'], unique=False)

    op.create_table('purchases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_code', sa.String(length=32), nullable=False),
    sa.Column('receipt_no', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=True),
    sa.Column('returned_amount', sa.BigInteger(), nullable=False),
    sa.Column('points_reversed', sa.BigInteger(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('points_reversed >= 0 AND points_reversed <= points_awarded', name=op.f('ck_purchases_reversed_within_awarded')),
    sa.CheckConstraint('returned_amount >= 0 AND returned_amount <= total', name=op.f('ck_purchases_returned_within_total')),
    sa.CheckConstraint('total >= 0', name=op.f('ck_purchases_total_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_purchases_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchases')),
    sa.UniqueConstraint('store_code', 'receipt_no', name=op.f('uq_purchases_store_code_receipt_no'))
    )
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.create_index('ix_purchases_member_id_occurred_at', ['member_id', 'occurred_at'], unique=False)

    op.create_table('purchase_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('returned_quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchase_lines_quantity_positive')),
    sa.CheckConstraint('returned_quantity >= 0 AND returned_quantity <= quantity', name=op.f('ck_purchase_lines_returned_within_quantity')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_purchase_lines_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_purchase_lines_purchase_id_purchases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_lines')),
    sa.UniqueConstraint('purchase_id', 'line_no', name=op.f('uq_purchase_lines_purchase_id_line_no'))
    )
    op.create_table('purchase_returns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('return_no', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=True),
    sa.Column('points_reversed', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_purchase_returns_amount_positive')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_purchase_returns_purchase_id_purchases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_returns')),
    sa.UniqueConstraint('purchase_id', 'return_no', name=op.f('uq_purchase_returns_purchase_id_return_no'))
    )
    


def downgrade() -> None:
    
    op.drop_table('purchase_returns')
    op.drop_table('purchase_lines')
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_purchases_member_id_occurred_at')

    op.drop_table('purchases')
    with op.batch_alter_table('member_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_sessions_member_id'))

    op.drop_table('member_sessions')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_source')
        batch_op.drop_index('ix_ledger_entries_member_id_id')

    op.drop_table('ledger_entries')
    op.drop_table('program_settings')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_unpublished', postgresql_where=sa.text('published_at IS NULL'), sqlite_where=sa.text('published_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_outbox_events_member_id'))

    op.drop_table('outbox_events')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_sponsor_id'))
        batch_op.drop_index('ix_members_last_purchase_at')
        batch_op.drop_index('ix_members_enrolled_at')

    op.drop_table('members')
    op.drop_table('idempotency_keys')
    op.drop_table('earning_rules')
    op.drop_table('api_clients')
    
