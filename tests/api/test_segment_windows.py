"""The members' rolling purchase windows for segments: equal to a recount from the purchases after
records, late receipts and returns, moved by the daily pass as purchases leave the windows, and read
(with their correction) to the same counts as the monthly summary and as Python, for windows on and
off the rolling ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.members.models import Member
from loyalty.receipts.models import Purchase
from loyalty.segments.compiler import Context, compile_definition
from loyalty.segments.models import MemberPurchaseWindow
from loyalty.segments.tasks import roll_windows
from loyalty.segments.windows import WINDOWS, day_start, windows_as_of
from tests.conftest import NOW

Figures = dict[int, tuple[int, ...]]


def stored(session: Session) -> Figures:
    rows = session.scalars(select(MemberPurchaseWindow)).all()
    return {row.member_id: tuple(value for days in WINDOWS for value in (getattr(row, f"purchases_{days}"), getattr(row, f"spend_{days}"))) for row in rows}


def recount(session: Session, as_of: datetime) -> Figures:
    """The figures counted in Python from the purchases: members with a purchase in the longest window."""
    purchases = session.scalars(select(Purchase).where(Purchase.member_id.is_not(None))).all()
    figures: Figures = {}
    for member_id in {p.member_id for p in purchases if p.member_id is not None}:
        mine = [p for p in purchases if p.member_id == member_id]
        values: list[Any] = []
        for days in WINDOWS:
            inside = [p for p in mine if p.occurred_at >= as_of - timedelta(days=days)]
            values += [len(inside), sum((p.total - p.returned_amount for p in inside), Decimal(0))]
        if values[-2]:
            figures[member_id] = tuple(values)
    return figures


def roll(sessions: sessionmaker[Session], now: datetime) -> int:
    with sessions.begin() as session:
        return roll_windows(session, now)


def test_figures_follow_purchases_late_receipts_returns_and_the_days_passing(
    client: Any, till: dict[str, str], make_member: Callable[..., dict[str, Any]], make_purchase: Callable[..., dict[str, Any]],
    caught_up: Callable[[], int], sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    ann, bob = make_member(), make_member()
    make_purchase(member_id=ann["id"], occurred_at=(NOW - timedelta(days=360)).isoformat(), total="99.00")
    caught_up()
    with sessions() as session:
        assert windows_as_of(session) is None and stored(session) == {}  # nothing counted before the first pass
    assert (roll(sessions, NOW), roll(sessions, NOW + timedelta(hours=5))) == (1, 0)  # the first counts everyone, once a day
    recent = make_purchase(member_id=ann["id"], occurred_at=(NOW - timedelta(days=29, hours=12)).isoformat(), total="30.00")
    make_purchase(member_id=ann["id"], occurred_at=(NOW - timedelta(days=100)).isoformat(), total="50.00")
    make_purchase(member_id=bob["id"], occurred_at=(NOW - timedelta(days=200)).isoformat(), total="70.00")  # a late receipt
    caught_up()
    returned = client.post(f"/api/v1/purchases/{recent['id']}/returns", json={"return_no": "RET-1", "amount": "12.50"}, headers=till)
    assert returned.status_code == 201
    caught_up()
    with sessions() as session:
        assert windows_as_of(session) == day_start(NOW)
        assert stored(session) == recount(session, day_start(NOW))
        assert stored(session)[ann["id"]] == (1, Decimal("17.50"), 1, Decimal("17.50"), 2, Decimal("67.50"), 3, Decimal("166.50"))
        assert stored(session)[bob["id"]] == (0, 0, 0, 0, 0, 0, 1, Decimal("70.00"))
    assert roll(sessions, NOW + timedelta(days=1)) == 1  # ann's purchase of 23 October, 22:00 leaves the 30 days
    with sessions() as session:
        assert stored(session)[ann["id"]][:2] == (0, 0)
        assert stored(session) == recount(session, day_start(NOW + timedelta(days=1)))
    assert roll(sessions, NOW + timedelta(days=170)) == 1  # bob's only purchase leaves the year: his row goes
    with sessions() as session:
        assert bob["id"] not in stored(session)
        assert stored(session) == recount(session, day_start(NOW + timedelta(days=170)))


#: Windows on a rolling one, a few hours or days off one (corrected), and far from any (the monthly summary).
WINDOW_DAYS = (1, 7, 29, 30, 31, 45, 60, 89, 90, 120, 180, 200, 300, 365, 380, 500)


@pytest.mark.parametrize("hours_after_anchor", [0, 7, 30, 24 * 20])
def test_counts_from_the_rolling_figures_equal_the_monthly_summary_and_python(
    client: Any, till: dict[str, str], make_member: Callable[..., dict[str, Any]], make_purchase: Callable[..., dict[str, Any]],
    caught_up: Callable[[], int], sessions: sessionmaker[Session], hours_after_anchor: int,
) -> None:  # fmt: skip
    """Measured at the anchor, the same day, the next day and 20 days later (the daily pass not run)."""
    members = [make_member() for _ in range(6)]
    for n, member in enumerate(members):
        for k in range(n + 1):
            at = NOW - timedelta(days=(37 * n + 53 * k) % 360, hours=(5 * n + 11 * k) % 24)
            bought = make_purchase(member_id=member["id"], occurred_at=at.isoformat(), total=f"{10 + 7 * (n + k)}.00")
            if (n + k) % 3 == 0:
                body = {"return_no": f"RET-{n}-{k}", "amount": "5.00"}
                assert client.post(f"/api/v1/purchases/{bought['id']}/returns", json=body, headers=till).status_code == 201
    caught_up()
    roll(sessions, NOW)
    now = day_start(NOW) + timedelta(hours=hours_after_anchor)
    with sessions() as session:
        as_of = windows_as_of(session)
        nets = {m["id"]: [(p.occurred_at, p.total - p.returned_amount) for p in session.scalars(select(Purchase).where(Purchase.member_id == m["id"]))] for m in members}
        for days in WINDOW_DAYS:
            inside = {member_id: [net for at, net in bought if at >= now - timedelta(days=days)] for member_id, bought in nets.items()}
            for condition, predicate in (
                ({"count": {"gte": 2}}, lambda nets: len(nets) >= 2),
                ({"count": {"lt": 2}}, lambda nets: len(nets) < 2),
                ({"spend": {"lt": "40.00"}}, lambda nets: sum(nets, Decimal(0)) < 40),
                ({"spend": {"gte": "30.00"}, "count": {"eq": 1}}, lambda nets: len(nets) == 1 and sum(nets, Decimal(0)) >= 30),
            ):
                definition = {"purchases": {"within_days": days, **condition}}
                counts = [
                    session.scalar(select(func.count()).select_from(Member).where(Member.id.in_(nets), compile_definition(definition, context)))
                    for context in (Context(now=now, qualifying_since=now, windows_as_of=as_of), Context(now=now, qualifying_since=now))
                ]
                expected = sum(predicate(nets) for nets in inside.values())
                assert counts == [expected, expected], (days, condition)
