"""The purchase history summarised per member for segment conditions, kept after commit (design
rules 4 and 8).

The ``segment-history`` outbox consumer reads ``PurchaseRecorded``, ``PurchaseClaimed`` and
``PurchaseReturned``. For the purchases of a batch it recounts, from ``purchases``, the (member, UTC
month) rows they fall in (:class:`MemberPurchaseMonth`: how many, spend net of returns), and moves
each (member, category) last-bought instant forward (:class:`MemberCategory`), and recounts the
members' rolling windows (:mod:`loyalty.segments.windows`). It recounts rather
than adds, so an event applied again (the consumer replaying the outbox after the migration's
back-fill) changes nothing. Nothing is added to the purchase's own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from loyalty.consumers import Delivered
from loyalty.db import one_of, table_of, upsert_many
from loyalty.events import PurchaseClaimed, PurchaseRecorded, PurchaseReturned
from loyalty.receipts.models import Purchase, PurchaseLine
from loyalty.segments.models import MemberCategory, MemberPurchaseMonth
from loyalty.segments.windows import recount_members


#: The events the consumer reads: each names the purchase it changed.
EVENTS = (PurchaseRecorded, PurchaseClaimed, PurchaseReturned)


def month_start(at: datetime) -> datetime:
    """The first instant of ``at``'s calendar month, UTC."""
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def next_month(month: datetime) -> datetime:
    """The first instant of the month after ``month`` (itself a month's first instant)."""
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def summarise_purchases(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
    """Bring the summary of the batch's purchases up to date: one read and one upsert per table."""
    purchase_ids = sorted({_purchase_of(delivered) for delivered in batch})
    bought = session.execute(
        select(Purchase.member_id, Purchase.occurred_at).where(one_of(session, Purchase.id, purchase_ids), Purchase.member_id.is_not(None))
    ).all()
    if not bought:
        return
    _recount_months(session, {(member_id, month_start(at)) for member_id, at in bought if member_id is not None})
    _move_categories(session, purchase_ids)
    recount_members(session, {member_id for member_id, _at in bought if member_id is not None})


def _purchase_of(delivered: Delivered) -> int:
    event = delivered.event
    assert isinstance(event, EVENTS)  # the consumer reads nothing else
    return event.purchase_id


def _recount_months(session: Session, months: set[tuple[int, datetime]]) -> None:
    """Each (member, month) recounted from all its purchases: one read per calendar month of the batch
    (in a steady flow, the current one), for that month's members."""
    by_month: dict[datetime, list[int]] = {}
    for member_id, month in sorted(months):
        by_month.setdefault(month, []).append(member_id)
    totals: dict[tuple[int, datetime], tuple[int, Decimal]] = {}
    for month, member_ids in by_month.items():
        for buyer, total, returned in session.execute(
            select(Purchase.member_id, Purchase.total, Purchase.returned_amount).where(
                one_of(session, Purchase.member_id, member_ids), Purchase.occurred_at >= month, Purchase.occurred_at < next_month(month)
            )
        ):
            assert buyer is not None  # only the month's members are read
            count, spend = totals.get((buyer, month), (0, Decimal(0)))
            totals[(buyer, month)] = (count + 1, spend + total - returned)
    rows = [
        {"member_id": member_id, "month": month, "purchases": count, "spend": spend}
        for (member_id, month), (count, spend) in sorted(totals.items())
    ]
    upsert_many(session, table_of(MemberPurchaseMonth), rows, conflict=_recounted)


def _recounted(stmt: Any) -> Any:
    """A (member, month) already summarised takes the figures recounted."""
    return stmt.on_conflict_do_update(
        index_elements=["member_id", "month"], set_={"purchases": stmt.excluded.purchases, "spend": stmt.excluded.spend}
    )


def _move_categories(session: Session, purchase_ids: list[int]) -> None:
    """Each (member, category) of the purchases' lines: the latest purchase that had one."""
    latest = session.execute(
        select(Purchase.member_id, PurchaseLine.category, func.max(Purchase.occurred_at))
        .join(PurchaseLine, PurchaseLine.purchase_id == Purchase.id)
        .where(one_of(session, Purchase.id, purchase_ids), Purchase.member_id.is_not(None), PurchaseLine.category.is_not(None))
        .group_by(Purchase.member_id, PurchaseLine.category)
        .order_by(Purchase.member_id, PurchaseLine.category)
    ).all()
    if not latest:
        return
    rows = [{"member_id": member_id, "category": category, "last_bought_at": at} for member_id, category, at in latest]
    upsert_many(session, table_of(MemberCategory), rows, conflict=_later_purchase)


def _later_purchase(stmt: Any) -> Any:
    """A (member, category) already known keeps the later of its two purchases."""
    table = table_of(MemberCategory)
    later = case((stmt.excluded.last_bought_at > table.c.last_bought_at, stmt.excluded.last_bought_at), else_=table.c.last_bought_at)
    return stmt.on_conflict_do_update(index_elements=["member_id", "category"], set_={"last_bought_at": later})
