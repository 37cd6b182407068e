"""Writing a receipt: the purchase row and its lines, once per ``(store_code, receipt_no)``.

On PostgreSQL the purchase and its lines go in one statement: the lines are inserted by a
data-modifying CTE from the new purchase's id, one array parameter per column (``unnest``); the
statement is built once per set of columns and executed with the receipt's values. Elsewhere the
purchase is inserted, then its lines in one ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, column, func, insert, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session

from loyalty.db import insert_if_absent, table_of
from loyalty.receipts.models import Purchase, PurchaseLine

#: A purchase is recorded once per store and receipt number (a unique constraint).
KEY = ("store_code", "receipt_no")
PURCHASES = table_of(Purchase)
LINES = table_of(PurchaseLine)
_INSERT_LINES = insert(LINES)


def insert_receipt(session: Session, purchase: dict[str, Any], lines: Sequence[dict[str, Any]]) -> int | None:
    """Insert ``purchase`` (a row of ``purchases``) and its ``lines`` (rows of ``purchase_lines``
    without the purchase's id, same keys each) unless the receipt exists: the new purchase's id, or
    None (and no line written) when a purchase of the same store and receipt number is recorded."""
    if not lines or session.get_bind().dialect.name != "postgresql":
        purchase_id = insert_if_absent(session, Purchase, purchase, key=KEY)
        if purchase_id is not None and lines:
            session.connection().execute(_INSERT_LINES, [{**line, "purchase_id": purchase_id} for line in lines])
        return purchase_id
    stmt = _statement(tuple(purchase), tuple(lines[0]))
    params = {
        **{f"p_{name}": value for name, value in purchase.items()},
        **{f"l_{name}": [line[name] for line in lines] for name in lines[0]},
    }
    return session.connection().execute(stmt, params).scalar_one_or_none()


@cache
def _statement(purchase_columns: tuple[str, ...], line_columns: tuple[str, ...]) -> Select[Any]:
    """``WITH new_purchase AS (INSERT INTO purchases … ON CONFLICT DO NOTHING RETURNING id),
    new_lines AS (INSERT INTO purchase_lines SELECT new_purchase.id, rows.* FROM new_purchase,
    unnest(:l_sku, …) AS rows) SELECT id FROM new_purchase``, built once per set of columns:
    parameters ``p_<column>`` for the purchase, ``l_<column>`` (an array, a value per line) for the
    lines."""
    new = (
        postgresql_insert(PURCHASES)
        .values({name: bindparam(f"p_{name}", type_=PURCHASES.c[name].type) for name in purchase_columns})
        .on_conflict_do_nothing(index_elements=list(KEY))
        .returning(PURCHASES.c.id)
        .cte("new_purchase")
    )
    arrays = [bindparam(f"l_{name}", type_=ARRAY(LINES.c[name].type)) for name in line_columns]
    rows = (
        func.unnest(*arrays)
        .table_valued(*(column(name, LINES.c[name].type) for name in line_columns))
        .render_derived(name="rows")
    )
    new_lines = (
        insert(LINES)
        .from_select(["purchase_id", *line_columns], select(new.c.id, *rows.c).select_from(new.join(rows, true())))
        .cte("new_lines")
    )
    return select(new.c.id).add_cte(new_lines)
