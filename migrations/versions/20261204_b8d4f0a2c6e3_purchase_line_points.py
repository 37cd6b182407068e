"""What each purchase line earned: a return by lines takes back what those lines earned.

Lines recorded before are given their share of their purchase's points in proportion to their amount
(what a return of them took back until now), whole points adding up to the purchase's.

Revision ID: b8d4f0a2c6e3
Revises: b3e8f1c6d2a7
Create Date: 2026-12-04 14:50:00
"""

from __future__ import annotations

from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = 'b8d4f0a2c6e3'
down_revision = 'b3e8f1c6d2a7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('purchase_lines') as batch:
        batch.add_column(sa.Column('points', sa.BigInteger(), nullable=False, server_default='0'))
    _share_out_awarded_points()


def _share_out_awarded_points() -> None:
    """Each purchase's points over its lines, by amount (cents: the stored integers); the points left
    by rounding down go to the largest remainders."""
    lines = sa.table('purchase_lines', sa.column('id'), sa.column('purchase_id'), sa.column('unit_price'),
                     sa.column('quantity'), sa.column('points'))  # fmt: skip
    purchases = sa.table('purchases', sa.column('id'), sa.column('points_awarded'))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(lines.c.id, lines.c.purchase_id, lines.c.unit_price * lines.c.quantity, purchases.c.points_awarded)
        .join(purchases, purchases.c.id == lines.c.purchase_id)
        .where(purchases.c.points_awarded > 0)
        .order_by(lines.c.purchase_id, lines.c.id)
    )
    updates = []
    for _, group in groupby(rows, key=lambda row: row[1]):
        items = list(group)
        awarded, cents = items[0][3], sum(row[2] for row in items)
        if cents <= 0:
            continue
        shares = [(row[0], divmod(awarded * row[2], cents)) for row in items]
        points = {line_id: whole for line_id, (whole, _) in shares}
        left = awarded - sum(points.values())
        for line_id, _ in sorted(shares, key=lambda share: -share[1][1])[:left]:
            points[line_id] += 1
        updates.extend({'line_id': line_id, 'points': value} for line_id, value in points.items())
    if updates:
        connection.execute(
            lines.update().where(lines.c.id == sa.bindparam('line_id')).values(points=sa.bindparam('points')), updates
        )


def downgrade() -> None:
    # SQLite recreates the table: reflect it alone, not the tables its keys point to (the members'
    # expression indexes, for the back office's search, cannot be reflected and need not be).
    with op.batch_alter_table('purchase_lines', reflect_kwargs={'resolve_fks': False}) as batch:
        batch.drop_column('points')
