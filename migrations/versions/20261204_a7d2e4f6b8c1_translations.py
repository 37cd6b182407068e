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


def upgrade() -> None:
    for table in TRANSLATABLE:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('translations', sa.JSON(), server_default='{}', nullable=False))
    # The texts shipped before translations were written in English.
    with op.batch_alter_table('program_settings') as batch:
        batch.add_column(sa.Column('locales', sa.JSON(), server_default='["en"]', nullable=False))
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=16), server_default='en', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('locale')
    with op.batch_alter_table('program_settings') as batch:
        batch.drop_column('locales')
    for table in reversed(TRANSLATABLE):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('translations')
