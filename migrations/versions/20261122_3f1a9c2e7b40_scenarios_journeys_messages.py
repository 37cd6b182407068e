"""Scenarios, journeys, messages, push subscriptions, marketing pressure; members' preferred channel
and month-days; offer rewards.

Revision ID: 3f1a9c2e7b40
Revises: 6c128c086a56
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3f1a9c2e7b40'
down_revision = '6c128c086a56'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blackout_periods',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_blackout_periods_ends_after_start')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blackout_periods'))
    )
    with op.batch_alter_table('blackout_periods', schema=None) as batch_op:
        batch_op.create_index('ix_blackout_periods_ends_at', ['ends_at'], unique=False)
    op.create_table('job_runs',
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_runs'))
    )
    op.create_table('message_templates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('short', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('key', name=op.f('uq_message_templates_key'))
    )
    op.create_table('pressure_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cap_messages', sa.Integer(), nullable=False),
    sa.Column('cap_days', sa.Integer(), nullable=False),
    sa.Column('quiet_start', sa.Time(), nullable=False),
    sa.Column('quiet_end', sa.Time(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cap_messages >= 0 AND cap_days > 0', name=op.f('ck_pressure_settings_cap_positive')),
    sa.CheckConstraint('id = 1', name=op.f('ck_pressure_settings_single_row')),
    sa.CheckConstraint('max_attempts > 0', name=op.f('ck_pressure_settings_attempts_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pressure_settings'))
    )
    op.create_table('scenarios',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('is_marketing', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenarios')),
    sa.UniqueConstraint('key', name=op.f('uq_scenarios_key'))
    )
    op.create_table('complaints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_complaints_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_member_id_closed_at', ['member_id', 'closed_at'], unique=False)
    op.create_table('journeys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scenario_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scenario_version', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_key', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=32), nullable=True),
    sa.Column('is_holdout', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=True),
    sa.Column('step_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waiting_for', sa.String(length=16), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('conversion_purchase_id', sa.BigInteger(), nullable=True),
    sa.Column('revenue', sa.BigInteger(), nullable=True),
    sa.Column('messages_sent', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_journeys_member_id_members')),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'], name=op.f('fk_journeys_scenario_id_scenarios')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journeys')),
    sa.UniqueConstraint('scenario_id', 'member_id', 'entry_key', name=op.f('uq_journeys_scenario_id_member_id_entry_key'))
    )
    with op.batch_alter_table('journeys', schema=None) as batch_op:
        batch_op.create_index('ix_journeys_due', ['due_at'], unique=False, postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
        batch_op.create_index('ix_journeys_member_id_status', ['member_id', 'status'], unique=False)
        batch_op.create_index('ix_journeys_scenario_id_member_id_entered_at', ['scenario_id', 'member_id', 'entered_at'], unique=False)
    op.create_table('push_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=1000), nullable=False),
    sa.Column('p256dh', sa.String(length=200), nullable=False),
    sa.Column('auth', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_push_subscriptions_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('address', name=op.f('uq_push_subscriptions_address'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_member_id'), ['member_id'], unique=False)
    op.create_table('scenario_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scenario_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'], name=op.f('fk_scenario_versions_scenario_id_scenarios')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_versions')),
    sa.UniqueConstraint('scenario_id', 'version', name=op.f('uq_scenario_versions_scenario_id_version'))
    )
    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('journey_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('scenario_key', sa.String(length=64), nullable=True),
    sa.Column('step', sa.String(length=64), nullable=True),
    sa.Column('variant', sa.String(length=32), nullable=True),
    sa.Column('template_key', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('is_marketing', sa.Boolean(), nullable=False),
    sa.Column('copy_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('send_key', sa.String(length=96), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('body_short', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['copy_of_id'], ['messages.id'], name=op.f('fk_messages_copy_of_id_messages')),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_messages_journey_id_journeys')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_messages_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('copy_of_id', name=op.f('uq_messages_copy_of_id')),
    sa.UniqueConstraint('send_key', name=op.f('uq_messages_send_key'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_dead', ['id'], unique=False, postgresql_where=sa.text("status = 'dead'"), sqlite_where=sa.text("status = 'dead'"))
        batch_op.create_index('ix_messages_due', ['due_at'], unique=False, postgresql_where=sa.text("status IN ('queued', 'sending')"), sqlite_where=sa.text("status IN ('queued', 'sending')"))
        batch_op.create_index('ix_messages_journey_id', ['journey_id'], unique=False)
        batch_op.create_index('ix_messages_member_id_created_at', ['member_id', 'created_at'], unique=False)
        batch_op.create_index('ix_messages_provider_ref', ['provider_ref'], unique=False)
        batch_op.create_index('ix_messages_scenario_key_channel', ['scenario_key', 'channel'], unique=False)
    op.create_table('purchase_bonuses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('journey_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purchase_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_purchase_bonuses_journey_id_journeys')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_purchase_bonuses_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_bonuses')),
    sa.UniqueConstraint('journey_id', name=op.f('uq_purchase_bonuses_journey_id'))
    )
    with op.batch_alter_table('purchase_bonuses', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_bonuses_member_id_used_at', ['member_id', 'used_at'], unique=False)
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birthday_md', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=8), nullable=False, server_default='email'))
        batch_op.add_column(sa.Column('enrolled_md', sa.Integer(), nullable=True))
    _fill_month_days()
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.alter_column('preferred_channel', server_default=None)
        batch_op.alter_column('enrolled_md', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_members_birthday_md', ['birthday_md'], unique=False)
        batch_op.create_index('ix_members_enrolled_md', ['enrolled_md'], unique=False)
        batch_op.create_index('ix_members_points_balance', ['points_balance'], unique=False)
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_offer', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.alter_column('is_offer', server_default=None)


def _fill_month_days() -> None:
    """``month * 100 + day`` of existing members' birth and enrolment dates."""
    if op.get_bind().dialect.name == 'postgresql':
        birthday = "EXTRACT(MONTH FROM birth_date) * 100 + EXTRACT(DAY FROM birth_date)"
        enrolled = "EXTRACT(MONTH FROM enrolled_at AT TIME ZONE 'UTC') * 100 + EXTRACT(DAY FROM enrolled_at AT TIME ZONE 'UTC')"
    else:
        birthday = "CAST(strftime('%m%d', birth_date) AS INTEGER)"
        enrolled = "CAST(strftime('%m%d', enrolled_at) AS INTEGER)"
    op.execute(f"UPDATE members SET birthday_md = {birthday} WHERE birth_date IS NOT NULL")
    op.execute(f"UPDATE members SET enrolled_md = {enrolled}")


def downgrade() -> None:
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_column('is_offer')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_points_balance')
        batch_op.drop_index('ix_members_enrolled_md')
        batch_op.drop_index('ix_members_birthday_md')
        batch_op.drop_column('enrolled_md')
        batch_op.drop_column('preferred_channel')
        batch_op.drop_column('birthday_md')
    op.drop_table('purchase_bonuses')
    op.drop_table('messages')
    op.drop_table('scenario_versions')
    op.drop_table('push_subscriptions')
    op.drop_table('journeys')
    op.drop_table('complaints')
    op.drop_table('scenarios')
    op.drop_table('pressure_settings')
    op.drop_table('message_templates')
    op.drop_table('job_runs')
    op.drop_table('blackout_periods')
