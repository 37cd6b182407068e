"""The status document: where a member stands, the same in the app, on the web and at the till.

The tests run on the shipped default program: tiers ``member`` and ``vip`` (100 qualifying points),
VOUCHER10 issued at 100 points, FREESHIP for 50, 10 points for creating an account, points that expire
after 24 months with a 30-day notice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import DEFAULT_PROGRAM, NOW

Member = dict[str, Any]

#: When the points earned at :data:`NOW` expire (24 months later).
EXPIRY = datetime(2028, 11, 22, 10, 0, tzinfo=UTC)
FREESHIP = {"code": "FREESHIP", "name": "Free shipping", "kind": "free_shipping", "amount": None, "percent": None,
            "cost_points": 50}
VOUCHER10 = {"code": "VOUCHER10", "name": "10 € voucher", "kind": "fixed_voucher", "amount": "10.00", "percent": None,
             "cost_points": 100}



@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the derived figures once the outbox consumers have caught up."""
    return caught_up_client

@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def status_of(client, admin) -> Callable[[Member], dict[str, Any]]:
    def read(member: Member) -> dict[str, Any]:
        response = client.get(f"/api/v1/members/{member['id']}/status", headers={**admin, "Accept-Language": "en"})
        assert response.status_code == 200, response.json
        return response.json

    return read


@pytest.fixture
def buy(make_purchase, clock) -> Callable[[Member, str], dict[str, Any]]:
    """``buy(member, "20.00")``: a receipt without lines at the clock's instant."""

    def post(member: Member, total: str) -> dict[str, Any]:
        return make_purchase(member_id=member["id"], total=total, lines=[], occurred_at=clock.now().isoformat())

    return post


@pytest.fixture
def give(client, admin) -> Callable[[Member, int], None]:
    """``give(member, 45)``: an adjustment by hand (spendable, not qualifying)."""

    def post(member: Member, points: int) -> None:
        response = client.post(
            f"/api/v1/members/{member['id']}/adjustments", json={"points": points, "reason": "test"}, headers=admin
        )
        assert response.status_code == 201, response.json

    return post


@pytest.fixture
def redeem(client, service) -> Callable[[Member, str], None]:
    def post(member: Member, reward_code: str) -> None:
        response = client.post(
            f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": reward_code}, headers=service
        )
        assert response.status_code == 201, response.json

    return post


def test_the_status_document_tells_where_the_member_stands(
    client, admin, make_member, make_purchase, buy, give, redeem, status_of
):
    member = make_member()  # 10 points for the new account
    make_purchase(member_id=member["id"])  # 45 points: 55 qualifying
    redeem(member, "FREESHIP")  # 5 left to spend; still 55 qualifying
    assert client.patch("/api/v1/admin/program", json={"pending_days": 14}, headers=admin).status_code == 200
    buy(member, "20.00")  # 20 points pending for the return window
    give(member, 45)  # spendable, not qualifying
    assert status_of(member) == {
        "member_id": member["id"],
        "points_balance": 50,
        "pending_points": 20,
        "lifetime_points": 55,
        "qualifying_points": 55,
        "tier": {
            "code": "member",
            "name": "Member",
            "since": NOW.isoformat(),
            "benefits": ["Points on every purchase", "Birthday offer"],
            "multiplier": "1.0000",
        },
        "next_tier": {"code": "vip", "name": "VIP", "threshold": 100, "points_needed": 45, "progress": 0.55},
        "next_threshold": {"points": 100, "points_needed": 50, "reward": VOUCHER10},
        "expiring_soon": None,
        "rewards_available": [FREESHIP],
        # The account (an engagement, 3) and two purchases (10 each); adjustments and redemptions are no
        # interactions.
        "engagement": {"score": 23.0, "level": "engaged"},
    }


def test_the_app_the_web_and_the_till_read_the_same_document(
    client, admin, service, till, make_member, make_purchase, login
):
    member = make_member()
    make_purchase(member_id=member["id"])
    documents = [
        client.get(f"/api/v1/members/{member['id']}/status", headers=headers).json
        for headers in (admin, service, till, login(member))
    ]
    documents.append(client.get("/api/v1/me/status", headers=login(member)).json)
    found = client.get(f"/api/v1/members/lookup?card_number={member['card_number']}", headers=till).json
    documents.append(found["status"])
    assert documents[0]["points_balance"] == 55
    assert all(document == documents[0] for document in documents), documents
    assert (found["id"], found["points_balance"]) == (member["id"], 55)


def test_a_member_cannot_read_another_member_s_status(client, make_member, login):
    member, other = make_member(), make_member()
    assert client.get(f"/api/v1/members/{other['id']}/status", headers=login(member)).status_code == 403


def test_a_vip_member_has_no_next_tier_and_sees_the_vip_rewards(make_member, buy, status_of):
    member = make_member()
    buy(member, "90.00")  # 100 qualifying points: vip, and VOUCHER10 took the 100 points
    document = status_of(member)
    assert (document["points_balance"], document["qualifying_points"]) == (0, 100)
    assert document["tier"] == {
        "code": "vip",
        "name": "VIP",
        "since": NOW.isoformat(),
        "benefits": ["Points x1.5", "Private sales", "Free shipping"],
        "multiplier": "1.5000",
    }
    assert document["next_tier"] is None
    assert [reward["code"] for reward in document["rewards_available"]] == ["VIPEVENT"]


def test_progress_is_measured_from_the_current_tier_to_the_next(client, admin, make_member, buy, status_of):
    ladder = [
        {"code": "member", "name": "Member", "rank": 0, "threshold": 0},
        {"code": "vip", "name": "VIP", "rank": 1, "threshold": 100, "multiplier": "1.5"},
        {"code": "gold", "name": "Gold", "rank": 2, "threshold": 300},
    ]
    assert client.put("/api/v1/admin/tiers", json={"tiers": ladder}, headers=admin).status_code == 200
    member = make_member()
    buy(member, "90.00")
    buy(member, "60.00")  # 90 points at the vip rate: 190 qualifying
    assert status_of(member)["next_tier"] == {
        "code": "gold",
        "name": "Gold",
        "threshold": 300,
        "points_needed": 110,
        "progress": 0.45,
    }


def test_with_no_threshold_above_the_balance_there_is_no_next_threshold(client, admin, make_member, give, status_of):
    claim = {"thresholds": [{"points": 100, "reward_code": "VOUCHER10", "auto_issue": False}]}
    assert client.put("/api/v1/admin/thresholds", json=claim, headers=admin).status_code == 200
    member = make_member()
    give(member, 89)
    assert status_of(member)["next_threshold"] == {"points": 100, "points_needed": 1, "reward": VOUCHER10}
    give(member, 1)
    document = status_of(member)
    assert document["next_threshold"] is None
    assert [reward["code"] for reward in document["rewards_available"]] == ["FREESHIP", "VOUCHER10"]


def test_points_expiring_within_the_notice_period_are_announced(
    make_member, make_purchase, buy, redeem, status_of, clock
):
    member = make_member()
    make_purchase(member_id=member["id"])  # with the welcome points: 55 points expiring in 24 months
    clock.set(NOW + timedelta(days=31))
    buy(member, "30.00")  # expiring a month later
    clock.set(EXPIRY - timedelta(days=30, seconds=1))
    assert status_of(member)["expiring_soon"] is None
    clock.set(EXPIRY - timedelta(days=30))
    assert status_of(member)["expiring_soon"] == {"points": 55, "expires_at": EXPIRY.isoformat()}
    redeem(member, "FREESHIP")  # spends the points that expire first
    assert status_of(member)["expiring_soon"] == {"points": 5, "expires_at": EXPIRY.isoformat()}


def test_an_unchanged_status_document_is_a_304_without_a_body(client, service, make_member, make_purchase):
    member = make_member()
    url = f"/api/v1/members/{member['id']}/status"
    first = client.get(url, headers=service)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(url, headers={**service, "If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.get_data()) == (304, b"")
    make_purchase(member_id=member["id"])
    changed = client.get(url, headers={**service, "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_an_unchanged_member_is_a_304(client, service, make_member):
    member = make_member()
    url = f"/api/v1/members/{member['id']}"
    first = client.get(url, headers=service)
    again = client.get(url, headers={**service, "If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.get_data()) == (304, b"")


def test_a_reward_whose_last_unit_is_taken_is_no_longer_available(client, admin, make_member, give, redeem, status_of):
    member, other = make_member(), make_member()
    give(member, 40)
    give(other, 40)
    assert client.patch("/api/v1/admin/rewards/FREESHIP", json={"stock": 1}, headers=admin).status_code == 200
    assert [reward["code"] for reward in status_of(member)["rewards_available"]] == ["FREESHIP"]
    redeem(other, "FREESHIP")
    assert status_of(member)["rewards_available"] == []


def test_a_change_of_a_reward_shows_in_the_next_document(client, admin, make_member, give, status_of):
    member = make_member()
    give(member, 40)
    assert status_of(member)["rewards_available"] == [FREESHIP]
    changed = {"cost_points": 45}
    assert client.patch("/api/v1/admin/rewards/FREESHIP", json=changed, headers=admin).status_code == 200
    assert status_of(member)["rewards_available"] == [{**FREESHIP, **changed}]
    assert client.patch("/api/v1/admin/rewards/FREESHIP", json={"cost_points": 51}, headers=admin).status_code == 200
    assert status_of(member)["rewards_available"] == []
