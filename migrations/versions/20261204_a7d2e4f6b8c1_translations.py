"""Translations: the program's languages, translated texts, and the language of each message.

Revision ID: a7d2e4f6b8c1
Revises: b8d4f0a2c6e3
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a7d2e4f6b8c1'
down_revision = 'b8d4f0a2c6e3'
branch_labels = None
depends_on = None

#: Tables whose names, descriptions or parts may be translated.
TRANSLATABLE = ('tiers', 'rewards', 'badges', 'challenges', 'quizzes', 'quiz_questions', 'games', 'message_templates')


# Plain ALTER TABLE ADD / DROP COLUMN (SQLite has both): no table is copied, so no index is lost.


def upgrade() -> None:
    for table in TRANSLATABLE:
        op.add_column(table, sa.Column('translations', sa.JSON(), server_default='{}', nullable=False))
    # The texts shipped before translations were written in English.
    op.add_column('program_settings', sa.Column('locales', sa.JSON(), server_default='["en"]', nullable=False))
    op.add_column('messages', sa.Column('locale', sa.String(length=16), server_default='en', nullable=False))


def downgrade() -> None:
    op.drop_column('messages', 'locale')
    op.drop_column('program_settings', 'locales')
    for table in reversed(TRANSLATABLE):
        op.drop_column(table, 'translations')
