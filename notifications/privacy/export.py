"""Everything the program holds about a member, as one JSON-ready document.

Every table with a ``member_id`` column is read for the member's rows (and a purchase's lines with
it): a table added later is exported without anyone remembering to. Hashes (password, request
fingerprints) are left out: they are not data about the member, and a hash of a password is a secret.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Table, select
from sqlalchemy.orm import Session

from loyalty.members.operations import get_member
from loyalty.receipts.models import Purchase, PurchaseLine
from loyalty.serialize import plain

#: Columns never exported.
SECRET_COLUMNS = frozenset({"password_hash", "request_hash", "content"})


def export_member(session: Session, member_id: int, metadata: MetaData) -> dict[str, Any]:
    """The member's row and, by table name, the rows of every table that refers to them by ``member_id``."""
    get_member(session, member_id)
    members = metadata.tables["members"]
    document: dict[str, Any] = {"member": _rows(session, members, members.c.id == member_id)[0], "records": {}}
    for table in metadata.sorted_tables:
        if "member_id" in table.c and table.name != "members":
            rows = _rows(session, table, table.c.member_id == member_id)
            if rows:
                document["records"][table.name] = rows
    purchases = select(Purchase.id).where(Purchase.member_id == member_id)
    lines = _rows(session, metadata.tables[PurchaseLine.__tablename__], PurchaseLine.purchase_id.in_(purchases))
    if lines:
        document["records"]["purchase_lines"] = lines
    return document


def _rows(session: Session, table: Table, condition: Any) -> list[dict[str, Any]]:
    columns = [column for column in table.c if column.name not in SECRET_COLUMNS]
    order = table.c.id if "id" in table.c else columns[0]
    return [
        {column.name: plain(value) for column, value in zip(columns, row)}
        for row in session.execute(select(*columns).where(condition).order_by(order))
    ]
