"""Point expiry on the default program: points expire 24 months after they were earned, oldest first;
redemptions spend the oldest first; members are warned 30 days before, once per lot; the status
document shows what expires soon. Driven through the API and ``loyalty expire-points``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from loyalty.ledger.models import PointLot
from loyalty.ledger.operations import members_with_lots_out_of_step
from loyalty.ledger.tasks import expire_points
from loyalty.outbox import OutboxEvent
from tests.conftest import DEFAULT_PROGRAM, NOW, Headers
from tests.integration.test_cli import run

Member = dict[str, Any]

SIX_MONTHS_LATER = datetime(2027, 5, 22, 10, 0, tzinfo=UTC)
#: 24 months after NOW and after SIX_MONTHS_LATER.
FIRST_EXPIRY = datetime(2028, 11, 22, 10, 0, tzinfo=UTC)
SECOND_EXPIRY = datetime(2029, 5, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture(autouse=True)
def lots_hold_every_balance(sessions) -> Iterator[None]:
    yield
    with sessions() as session:
        assert members_with_lots_out_of_step(session) == []


@pytest.fixture
def earn(clock: FrozenClock, make_purchase) -> Callable[[Member, str, datetime], None]:
    """``earn(member, "30.00", at)``: a receipt of that total (30 points) made and recorded at ``at``."""

    def buy(member: Member, total: str, at: datetime) -> None:
        clock.set(at)
        make_purchase(member_id=member["id"], total=total, lines=[], occurred_at=at.isoformat())

    return buy


@pytest.fixture
def balance(client: FlaskClient, admin: Headers) -> Callable[[Member], int]:
    def read(member: Member) -> int:
        return client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"]

    return read


@pytest.fixture
def expire(app, clock: FrozenClock) -> Callable[[datetime], str]:
    """``expire(at)``: run ``loyalty expire-points`` at ``at``; its report."""

    def at(moment: datetime) -> str:
        clock.set(moment)
        result = run(app, "expire-points")
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    return at


def expiring_events(sessions) -> list[dict[str, Any]]:
    with sessions() as session:
        payloads = select(OutboxEvent.payload).where(OutboxEvent.event_type == "PointsExpiring")
        return list(session.scalars(payloads.order_by(OutboxEvent.id)))


def redeem(client: FlaskClient, member: Member, headers: Headers) -> None:
    """Spend 50 points on FREESHIP."""
    url = f"/api/v1/members/{member['id']}/redemptions"
    response = client.post(url, json={"reward_code": "FREESHIP"}, headers=headers)
    assert response.status_code == 201, response.json


def test_points_expire_twenty_four_months_after_they_were_earned(client, admin, make_member, earn, expire, balance):
    member = make_member()  # 10 points for the account
    earn(member, "30.00", NOW)
    assert expire(FIRST_EXPIRY - timedelta(seconds=1)).endswith("points expired for 0 members")
    assert balance(member) == 40
    assert expire(FIRST_EXPIRY).endswith("points expired for 1 members")
    assert balance(member) == 0
    entry = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"][0]
    assert (entry["kind"], entry["points"], entry["reason"]) == ("expire", -40, "points expired")


def test_the_oldest_points_expire_first(make_member, earn, expire, balance):
    member = make_member()
    earn(member, "30.00", NOW)
    earn(member, "25.00", SIX_MONTHS_LATER)
    expire(FIRST_EXPIRY)
    assert balance(member) == 25
    expire(SECOND_EXPIRY - timedelta(seconds=1))
    assert balance(member) == 25
    expire(SECOND_EXPIRY)
    assert balance(member) == 0


def test_a_redemption_spends_the_oldest_points_first(client, admin, make_member, earn, expire, balance, clock):
    member = make_member()
    earn(member, "30.00", NOW)
    earn(member, "50.00", SIX_MONTHS_LATER)
    clock.set(SIX_MONTHS_LATER + timedelta(days=10))
    redeem(client, member, admin)  # the 40 points of the first lots and 10 of the second
    assert expire(FIRST_EXPIRY).endswith("points expired for 0 members")
    assert balance(member) == 40
    expire(SECOND_EXPIRY)
    assert balance(member) == 0


def test_points_earned_on_a_leap_day_do_not_expire_before_older_ones(make_member, earn, expire, balance):
    member = make_member()
    earn(member, "30.00", datetime(2028, 2, 28, 20, 0, tzinfo=UTC))
    earn(member, "20.00", datetime(2028, 2, 29, 7, 0, tzinfo=UTC))  # 2030 has no 29 February
    expire(datetime(2030, 2, 28, 19, 59, tzinfo=UTC))
    assert balance(member) == 50  # only the account's 10 points, earned in 2026
    expire(datetime(2030, 2, 28, 20, 0, tzinfo=UTC))
    assert balance(member) == 20
    expire(datetime(2030, 3, 1, 0, 0, tzinfo=UTC))
    assert balance(member) == 0


def test_members_are_warned_thirty_days_ahead_once_per_lot(make_member, earn, expire, sessions):
    member = make_member()
    earn(member, "30.00", NOW)
    earn(member, "20.00", NOW + timedelta(days=10))
    assert expire(FIRST_EXPIRY - timedelta(days=30, seconds=1)).startswith("0 members warned")
    assert expire(FIRST_EXPIRY - timedelta(days=30)).startswith("1 members warned")
    assert expire(FIRST_EXPIRY - timedelta(days=25)).startswith("0 members warned")
    assert expire(FIRST_EXPIRY - timedelta(days=20)).startswith("1 members warned")
    assert expiring_events(sessions) == [
        {
            "occurred_at": "2028-10-23T10:00:00+00:00",
            "member_id": member["id"],
            "points": 40,
            "expires_at": "2028-11-22T10:00:00+00:00",
        },
        {
            "occurred_at": "2028-11-02T10:00:00+00:00",
            "member_id": member["id"],
            "points": 20,
            "expires_at": "2028-12-02T10:00:00+00:00",
        },
    ]


def test_the_status_document_shows_the_points_expiring_soon(client, admin, make_member, earn, expire, clock):
    member = make_member()
    earn(member, "30.00", NOW)
    earn(member, "25.00", SIX_MONTHS_LATER)
    url = f"/api/v1/members/{member['id']}/status"
    assert client.get(url, headers=admin).json["expiring_soon"] is None
    clock.set(FIRST_EXPIRY - timedelta(days=30))
    expiring = client.get(url, headers=admin).json["expiring_soon"]
    assert expiring == {"points": 40, "expires_at": "2028-11-22T10:00:00+00:00"}
    expire(FIRST_EXPIRY)
    assert client.get(url, headers=admin).json["expiring_soon"] is None


def test_points_owed_after_a_return_leave_nothing_to_expire(
    client, admin, till, make_member, make_purchase, expire, balance
):
    member = make_member()
    purchase = make_purchase(member_id=member["id"], total="45.90", lines=[])
    redeem(client, member, admin)
    body = {"return_no": "RET-1", "amount": "45.90"}
    response = client.post(f"/api/v1/purchases/{purchase['id']}/returns", json=body, headers=till)
    assert response.json["points_balance"] == 10 + 45 - 50 - 45
    assert expire(FIRST_EXPIRY).endswith("points expired for 0 members")
    assert balance(member) == -40
    adjustment = {"points": 50, "reason": "goodwill"}
    response = client.post(f"/api/v1/members/{member['id']}/adjustments", json=adjustment, headers=admin)
    assert response.json["points_balance"] == 10
    # 40 of the 50 points repaid the debt: only 10 are in a lot, and only they expire.
    assert expire(datetime(2030, 11, 22, 10, 0, tzinfo=UTC)).endswith("points expired for 1 members")
    assert balance(member) == 0


def test_points_never_expire_when_the_program_says_so(client, admin, make_member, sessions, expire, balance):
    assert client.patch("/api/v1/admin/program", json={"points_expiry_months": None}, headers=admin).status_code == 200
    member = make_member()
    assert expire(NOW + timedelta(days=3650)).endswith("points expired for 0 members")
    assert balance(member) == 10
    with sessions() as session:
        assert session.scalars(select(PointLot.expires_at).where(PointLot.member_id == member["id"])).all() == [None]


def test_expiry_works_through_the_members_in_batches(make_member, sessions, balance):
    members = [make_member() for _ in range(3)]
    done = []
    for _ in range(3):
        with session_scope(sessions) as session:
            done.append(expire_points(session, now=FIRST_EXPIRY, limit=2))
    assert done == [2, 1, 0]
    assert [balance(member) for member in members] == [0, 0, 0]
