"""Each member's purchases over rolling windows (30, 90, 180 and 365 days), counted ahead of the
segment conditions that ask about them (design rule 8).

The figures (:class:`MemberPurchaseWindow`) count the purchases since ``days`` before an anchor, a
UTC midnight kept in :class:`PurchaseWindowsAnchor`. They are always recounted from ``purchases``,
never added to, so applying a change twice changes nothing:

- the ``segment-history`` consumer recounts the members of each batch's purchases (a new purchase, a
  late receipt, a claim, a return) from the anchor it reads;
- the ``purchase-windows`` maintenance task (:mod:`loyalty.segments.tasks`) moves the anchor to the current UTC day and recounts the
  members with a purchase that left a window as the days passed (the first run counts everyone).

The anchor's row is locked while figures are written (shared by the consumer, exclusive for the
task), so no figures are ever counted from an anchor other than the one stored. A condition whose
window starts close to one of these reads the member's row and corrects it with the purchases
between the two starts (:mod:`loyalty.segments.compiler`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from loyalty.db import dialect_insert, one_of, table_of
from loyalty.receipts.models import Purchase
from loyalty.segments.models import MemberPurchaseWindow, PurchaseWindowsAnchor

#: The windows counted ahead, in days: their purchase count and their spend net of returns.
WINDOWS: dict[int, tuple[InstrumentedAttribute[int], InstrumentedAttribute[Any]]] = {
    30: (MemberPurchaseWindow.purchases_30, MemberPurchaseWindow.spend_30),
    90: (MemberPurchaseWindow.purchases_90, MemberPurchaseWindow.spend_90),
    180: (MemberPurchaseWindow.purchases_180, MemberPurchaseWindow.spend_180),
    365: (MemberPurchaseWindow.purchases_365, MemberPurchaseWindow.spend_365),
}
ANCHOR_ID = 1


def day_start(at: datetime) -> datetime:
    """The UTC midnight that starts ``at``'s day."""
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def windows_as_of(session: Session) -> datetime | None:
    """The anchor the figures are counted from, ``None`` before they are first counted."""
    return session.scalar(select(PurchaseWindowsAnchor.as_of).where(PurchaseWindowsAnchor.id == ANCHOR_ID))


def recount_members(session: Session, member_ids: Collection[int]) -> None:
    """The figures of ``member_ids`` recounted from the anchor (nothing before the first count)."""
    as_of = session.scalar(
        select(PurchaseWindowsAnchor.as_of).where(PurchaseWindowsAnchor.id == ANCHOR_ID).with_for_update(read=True)
    )
    if as_of is not None and member_ids:
        members = sorted(member_ids)
        recount(session, as_of, one_of(session, Purchase.member_id, members), one_of(session, MemberPurchaseWindow.member_id, members))


def recount(
    session: Session, as_of: datetime, purchases_of: ColumnElement[bool] | None, rows_of: ColumnElement[bool] | None
) -> None:
    """Upsert the figures of the purchases ``purchases_of`` (all when ``None``) since the longest
    window's start, one ``INSERT … SELECT … GROUP BY``; then delete the rows ``rows_of`` of members
    with no purchase left in it. An upsert, not a delete and an insert, so that two batches touching
    the same member at once both land."""
    net = Purchase.total - Purchase.returned_amount
    figures: list[Any] = []
    targets: list[str] = ["member_id"]
    for days, (count, spend) in WINDOWS.items():
        inside = Purchase.occurred_at >= as_of - timedelta(days=days)
        figures += [func.sum(case((inside, 1), else_=0)), func.sum(case((inside, net), else_=0))]
        targets += [count.key, spend.key]
    since = as_of - timedelta(days=max(WINDOWS))
    where = [Purchase.member_id.is_not(None), Purchase.occurred_at >= since]
    counted = select(Purchase.member_id, *figures).where(*where, *([] if purchases_of is None else [purchases_of]))
    upsert = dialect_insert(session)(table_of(MemberPurchaseWindow)).from_select(targets, counted.group_by(Purchase.member_id))
    session.execute(upsert.on_conflict_do_update(index_elements=["member_id"], set_={name: upsert.excluded[name] for name in targets[1:]}))
    bought = select(Purchase.id).where(Purchase.member_id == MemberPurchaseWindow.member_id, Purchase.occurred_at >= since)
    session.execute(delete(MemberPurchaseWindow).where(*([] if rows_of is None else [rows_of]), ~bought.exists()))
