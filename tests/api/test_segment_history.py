"""The purchase history summarised per member for segments: kept after commit by the
``segment-history`` consumer, equal to a recount from the purchases after records, returns and
claims, unchanged when events are applied again, and read exactly for windows that start mid-month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.consumers import Delivered
from loyalty.events import event_type
from loyalty.members.models import Member
from loyalty.outbox import OutboxEvent
from loyalty.receipts.models import Purchase, PurchaseLine
from loyalty.segments.compiler import Context, compile_definition
from loyalty.segments.history import EVENTS, month_start, summarise_purchases
from loyalty.segments.models import MemberCategory, MemberPurchaseMonth
from tests.conftest import NOW


def summary(session: Session) -> tuple[dict[tuple[int, datetime], tuple[int, Decimal]], dict[tuple[int, str], datetime]]:
    months = {(row.member_id, row.month): (row.purchases, row.spend) for row in session.scalars(select(MemberPurchaseMonth))}
    categories = {(row.member_id, row.category): row.last_bought_at for row in session.scalars(select(MemberCategory))}
    return months, categories


def recount(session: Session) -> tuple[dict[tuple[int, datetime], tuple[int, Decimal]], dict[tuple[int, str], datetime]]:
    """The same summary, counted in Python from the purchases and their lines."""
    months: dict[tuple[int, datetime], tuple[int, Decimal]] = {}
    categories: dict[tuple[int, str], datetime] = {}
    lines: dict[int, set[str]] = defaultdict(set)
    for purchase_id, category in session.execute(select(PurchaseLine.purchase_id, PurchaseLine.category)):
        if category is not None:
            lines[purchase_id].add(category)
    for purchase in session.scalars(select(Purchase).where(Purchase.member_id.is_not(None))):
        assert purchase.member_id is not None
        key = (purchase.member_id, month_start(purchase.occurred_at))
        count, spend = months.get(key, (0, Decimal(0)))
        months[key] = (count + 1, spend + purchase.total - purchase.returned_amount)
        for category in lines[purchase.id]:
            seen = categories.get((purchase.member_id, category))
            categories[(purchase.member_id, category)] = max(seen or purchase.occurred_at, purchase.occurred_at)
    return months, categories


def test_summary_follows_records_returns_and_claims_and_replays_change_nothing(
    client: Any, till: dict[str, str], make_member: Callable[..., dict[str, Any]], make_purchase: Callable[..., dict[str, Any]],
    caught_up: Callable[[], int], sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    ann, bob = make_member(), make_member()
    make_purchase(member_id=ann["id"], occurred_at="2026-10-31T23:59:00+00:00", total="30.00")
    kept = make_purchase(member_id=ann["id"], occurred_at="2026-11-01T00:00:00+00:00", total="50.00")
    make_purchase(member_id=ann["id"], occurred_at="2026-11-20T10:00:00+00:00", total="20.00",
                  lines=[{"sku": "LIP-1", "category": "beauty", "quantity": 1, "unit_price": "20.00"}])  # fmt: skip
    anonymous = make_purchase(occurred_at="2026-11-21T10:00:00+00:00", total="45.90")
    caught_up()
    returned = client.post(f"/api/v1/purchases/{kept['id']}/returns", json={"return_no": "RET-1", "amount": "10.00"}, headers=till)
    assert returned.status_code == 201
    body = {"store_code": anonymous["store_code"], "receipt_no": anonymous["receipt_no"]}
    assert client.post(f"/api/v1/members/{bob['id']}/claims", json=body, headers=till).status_code == 201
    caught_up()
    with sessions() as session:
        months, categories = summary(session)
        assert (months, categories) == recount(session)
        assert months[(ann["id"], datetime(2026, 11, 1, tzinfo=UTC))] == (2, Decimal("60.00"))
        assert months[(bob["id"], datetime(2026, 11, 1, tzinfo=UTC))] == (1, Decimal("45.90"))
        assert categories[(ann["id"], "beauty")] == datetime(2026, 11, 20, 10, tzinfo=UTC)
    with sessions.begin() as session:  # every event applied a second time, in one batch
        events = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type.in_([event.name for event in EVENTS])).order_by(OutboxEvent.id)
        ).all()
        batch = [Delivered(row.id, row.position or 0, event_type(row.event_type).from_payload(row.payload)) for row in events]
        summarise_purchases(session, batch, NOW)
    with sessions() as session:
        assert summary(session) == (months, categories)


def test_windows_starting_mid_month_and_on_a_month_are_exact(
    make_member: Callable[..., dict[str, Any]], make_purchase: Callable[..., dict[str, Any]],
    caught_up: Callable[[], int], sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    """A window's first, partial month is read from the purchases: a purchase a minute before the
    window's start is out, one at its start is in, whether or not the start is a month's first instant."""
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    member = make_member()
    for at in ("2026-08-20T11:59:00+00:00", "2026-08-20T12:00:00+00:00", "2026-10-15T08:00:00+00:00", "2026-11-01T00:00:00+00:00"):
        make_purchase(member_id=member["id"], occurred_at=at, total="10.00")
    caught_up()

    def count(definition: dict[str, Any], at: datetime = now) -> int:
        condition = compile_definition(definition, Context(now=at, qualifying_since=at))
        with sessions() as session:
            return session.scalar(select(func.count()).select_from(Member).where(Member.id == member["id"], condition)) or 0

    assert count({"purchases": {"within_days": 92, "count": {"eq": 3}, "spend": {"eq": "30.00"}}}) == 1  # from 20 Aug 12:00
    assert count({"purchases": {"within_days": 92, "count": {"eq": 4}}}) == 0
    assert count({"purchases": {"within_days": 3, "count": {"eq": 1}}}, datetime(2026, 11, 4, tzinfo=UTC)) == 1  # from 1 Nov 00:00
    assert count({"purchases": {"count": {"eq": 4}, "spend": {"gte": "40.00"}}}) == 1  # the whole history
    october = datetime(2026, 10, 14, tzinfo=UTC)  # from 4 Oct: two purchases; members with none qualify for "lt"
    assert (count({"purchases": {"within_days": 10, "count": {"lt": 3}}}, october), count({"purchases": {"within_days": 10, "count": {"lt": 2}}}, october)) == (1, 0)
