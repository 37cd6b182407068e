"""Pending points: with a 14-day return window, purchase points are pending (shown, not spendable); a
return within the window takes them back from the pending points first; ``loyalty release-pending``
credits what is left once the window is over."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.clock import FrozenClock
from loyalty.ledger.operations import members_out_of_balance, members_with_lots_out_of_step
from loyalty.members.models import Member
from loyalty.outbox import OutboxEvent
from loyalty.receipts.models import Purchase
from tests.conftest import DEFAULT_PROGRAM, NOW, Headers
from tests.integration.test_cli import run

MemberJson = dict[str, Any]
#: The builder's receipts are made at 09:30 on the day of NOW: their window ends 14 days later.
WINDOW_END = NOW.replace(hour=9, minute=30) + timedelta(days=14)


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture(autouse=True)
def return_window(client: FlaskClient, admin: Headers) -> None:
    response = client.patch("/api/v1/admin/program", json={"pending_days": 14}, headers=admin)
    assert (response.status_code, response.json["pending_days"]) == (200, 14)


@pytest.fixture(autouse=True)
def pending_points_match_the_purchases(sessions) -> Iterator[None]:
    """After each test: every member's pending points are those their purchases still hold."""
    yield
    with sessions() as session:
        held = (
            select(Purchase.member_id, func.sum(Purchase.points_pending).label("held"))
            .group_by(Purchase.member_id)
            .subquery()
        )
        drifted = session.execute(
            select(Member.id, Member.pending_points, held.c.held)
            .outerjoin(held, held.c.member_id == Member.id)
            .where(Member.pending_points != func.coalesce(held.c.held, 0))
        ).all()
        assert drifted == []
        assert members_out_of_balance(session) == []
        assert members_with_lots_out_of_step(session) == []


@pytest.fixture
def points(client: FlaskClient, admin: Headers) -> Callable[[MemberJson], tuple[int, int]]:
    """``points(member)``: ``(points_balance, pending_points)`` of the member, as the status document
    shows them (and checked equal to the member's own document)."""

    def read(member: MemberJson) -> tuple[int, int]:
        status = client.get(f"/api/v1/members/{member['id']}/status", headers=admin).json
        document = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
        shown = status["points_balance"], status["pending_points"]
        assert (document["points_balance"], document["pending_points"]) == shown
        return shown

    return read


@pytest.fixture
def give_back(client: FlaskClient, till: Headers) -> Callable[[dict[str, Any], str, str], dict[str, Any]]:
    def post(purchase: dict[str, Any], return_no: str, amount: str) -> dict[str, Any]:
        body = {"return_no": return_no, "amount": amount}
        response = client.post(f"/api/v1/purchases/{purchase['id']}/returns", json=body, headers=till)
        assert response.status_code == 201, response.json
        return response.json

    return post


@pytest.fixture
def release(app, clock: FrozenClock) -> Callable[[datetime], str]:
    """``release(at)``: run ``loyalty release-pending`` at ``at``; its report."""

    def at(moment: datetime) -> str:
        clock.set(moment)
        result = run(app, "release-pending")
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    return at


def redeem_freeship(client: FlaskClient, member: MemberJson, headers: Headers) -> Any:
    return client.post(f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": "FREESHIP"}, headers=headers)


def test_purchase_points_are_pending_during_the_return_window(client, admin, make_member, make_purchase, points):
    member = make_member()  # 10 points for the account, spendable at once
    receipt = make_purchase(member_id=member["id"])
    assert (receipt["points_awarded"], receipt["points_balance"]) == (45, 10)
    assert points(member) == (10, 45)
    items = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"]
    assert [item["kind"] for item in items] == ["bonus"]


def test_pending_points_cannot_be_spent_until_released(client, admin, make_member, make_purchase, release, points):
    member = make_member()
    make_purchase(member_id=member["id"])
    refused = redeem_freeship(client, member, admin)  # 50 points: 10 spendable, 45 pending
    assert refused.status_code == 422, refused.json
    assert release(WINDOW_END) == "pending points released for 1 purchases"
    assert points(member) == (55, 0)
    assert redeem_freeship(client, member, admin).status_code == 201
    assert points(member) == (5, 0)


def test_a_return_within_the_window_takes_back_pending_points_first(make_member, make_purchase, give_back, points):
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    answer = give_back(purchase, "RET-1", "20.00")
    assert (answer["points_reversed"], answer["points_balance"]) == (19, 10)  # 45 × 20.00 / 45.90, rounded down
    assert points(member) == (10, 26)


def test_release_after_the_window_credits_what_is_left(
    client, admin, sessions, make_member, make_purchase, give_back, release, points
):
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    give_back(purchase, "RET-1", "20.00")
    assert release(WINDOW_END - timedelta(minutes=1)) == "pending points released for 0 purchases"
    assert points(member) == (10, 26)
    assert release(WINDOW_END) == "pending points released for 1 purchases"
    assert points(member) == (36, 0)
    document = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
    assert document["lifetime_points"] == 36
    entry = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"][0]
    assert (entry["kind"], entry["points"], entry["reason"]) == ("earn", 26, "purchase (return window over)")
    with sessions() as session:
        released = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.event_type == "PendingPointsReleased").order_by(OutboxEvent.id)
        ).all()
    assert released == [
        {"occurred_at": WINDOW_END.isoformat(), "member_id": member["id"], "purchase_id": purchase["id"], "points": 26}
    ]
    assert release(WINDOW_END + timedelta(days=1)) == "pending points released for 0 purchases"


def test_a_return_after_the_release_takes_points_from_the_balance(
    make_member, make_purchase, give_back, release, points
):
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    give_back(purchase, "RET-1", "20.00")
    release(WINDOW_END)
    answer = give_back(purchase, "RET-2", "10.00")
    # 45 × 30.00 / 45.90 = 29 reversed in all, 19 of them already.
    assert (answer["points_reversed"], answer["points_balance"]) == (10, 26)
    assert points(member) == (26, 0)


def test_a_fully_returned_purchase_has_nothing_to_release(make_member, make_purchase, give_back, release, points):
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    give_back(purchase, "RET-1", "45.90")
    assert points(member) == (10, 0)
    assert release(WINDOW_END) == "pending points released for 0 purchases"
    assert points(member) == (10, 0)


def test_a_receipt_older_than_the_window_is_spendable_at_once(make_member, make_purchase, points):
    member = make_member()
    receipt = make_purchase(member_id=member["id"], occurred_at=(NOW - timedelta(days=15)).isoformat())
    assert receipt["points_balance"] == 55
    assert points(member) == (55, 0)


def test_a_claimed_purchase_is_pending_for_the_rest_of_its_window(
    client, till, make_member, make_purchase, release, points
):
    member = make_member()
    purchase = make_purchase()
    body = {"store_code": "S1", "receipt_no": purchase["receipt_no"]}
    assert client.post(f"/api/v1/members/{member['id']}/claims", json=body, headers=till).status_code == 201
    assert points(member) == (10, 45)
    release(WINDOW_END)
    assert points(member) == (55, 0)


def test_each_purchase_is_released_at_the_end_of_its_own_window(make_member, make_purchase, clock, release, points):
    member = make_member()
    make_purchase(member_id=member["id"], total="20.00", lines=[])
    later = NOW + timedelta(days=5)
    clock.set(later)
    make_purchase(member_id=member["id"], total="30.00", lines=[], occurred_at=later.isoformat())
    assert points(member) == (10, 50)
    release(WINDOW_END)
    assert points(member) == (30, 30)
    release(later + timedelta(days=14))
    assert points(member) == (60, 0)
