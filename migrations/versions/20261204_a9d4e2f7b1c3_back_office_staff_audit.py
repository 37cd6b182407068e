"""The back office: staff accounts, failed logins, the audit log; member search indexes.

Revision ID: a9d4e2f7b1c3
Revises: a3c8e5f1b7d9
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'a9d4e2f7b1c3'
down_revision = 'a3c8e5f1b7d9'
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'staff_accounts',
        sa.Column('id', BIGINT_PK, nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'marketer', 'support', 'analyst')", name=op.f('ck_staff_accounts_role_known')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_accounts')),
        sa.UniqueConstraint('email', name=op.f('uq_staff_accounts_email')),
    )
    op.create_table(
        'staff_login_failures',
        sa.Column('id', BIGINT_PK, nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_login_failures')),
    )
    op.create_index('ix_staff_login_failures_remote_addr', 'staff_login_failures', ['remote_addr', 'failed_at'])
    op.create_table(
        'audit_entries',
        sa.Column('id', BIGINT_PK, nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('entity', sa.String(length=64), nullable=False),
        sa.Column('entity_key', sa.String(length=200), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    op.create_index('ix_audit_entries_occurred_at', 'audit_entries', ['occurred_at', 'id'])
    op.create_index('ix_audit_entries_entity', 'audit_entries', ['entity', 'entity_key', 'id'])
    op.create_index('ix_audit_entries_actor', 'audit_entries', ['actor', 'id'])
    op.create_index('ix_members_phone', 'members', ['phone'])
    op.create_index('ix_members_lower_last_name', 'members', [sa.text('lower(last_name)')])
    op.create_index('ix_members_lower_first_name', 'members', [sa.text('lower(first_name)')])


def downgrade() -> None:
    op.drop_index('ix_members_lower_first_name', table_name='members')
    op.drop_index('ix_members_lower_last_name', table_name='members')
    op.drop_index('ix_members_phone', table_name='members')
    op.drop_table('audit_entries')
    op.drop_table('staff_login_failures')
    op.drop_table('staff_accounts')
