"""Redemptions, vouchers and earning at the same instant, over real connections to PostgreSQL.

Each thread has its own test client; a barrier releases them together. After each test every member's
balance still equals the sum of their ledger entries, and their open point lots hold exactly their
positive balance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.members.models import Member
from loyalty.receipts.models import Purchase
from rewards.vouchers.models import Voucher
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM
from tests.integration.concurrency import statuses

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("points_stay_consistent")]

Headers = dict[str, str]
#: The points every member of the default program earns by creating their account.
WELCOME = 10


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def change_reward(client, admin) -> Callable[..., None]:
    def patch(code: str, **changes: Any) -> None:
        response = client.patch(f"/api/v1/admin/rewards/{code}", json=changes, headers=admin)
        assert response.status_code == 200, response.json

    return patch


def redemption(client: FlaskClient, member: dict[str, Any], headers: Headers, reward_code: str = "FREESHIP") -> Any:
    url = f"/api/v1/members/{member['id']}/redemptions"
    return client.post(url, json={"reward_code": reward_code}, headers=headers)


def balances(sessions, members: list[dict[str, Any]]) -> list[int]:
    with sessions() as session:
        rows = {row.id: row.points_balance for row in session.execute(select(Member.id, Member.points_balance))}
    return [rows[member["id"]] for member in members]


def count_vouchers(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Voucher))


def test_the_last_unit_in_stock_goes_to_exactly_one_of_twenty_members(
    together, service, member_with, change_reward, sessions, client, admin
):
    change_reward("FREESHIP", stock=1)
    members = [member_with(50) for _ in range(20)]
    responses = together(20, lambda client, n: redemption(client, members[n], service))
    assert statuses(responses) == {201: 1, 409: 19}
    winner = next(n for n, response in enumerate(responses) if response.status_code == 201)
    assert balances(sessions, members) == [0 if n == winner else 50 for n in range(20)]
    assert count_vouchers(sessions) == 1
    rewards = client.get("/api/v1/admin/rewards", headers=admin).json
    assert next(reward["stock"] for reward in rewards if reward["code"] == "FREESHIP") == 0


def test_concurrent_redemptions_never_spend_more_than_the_balance(
    together, client, admin, service, member_with, sessions
):
    assert client.put("/api/v1/admin/thresholds", json={"thresholds": []}, headers=admin).status_code == 200
    member = member_with(160)
    responses = together(10, lambda client, _: redemption(client, member, service))
    assert statuses(responses) == {201: 3, 422: 7}
    assert balances(sessions, [member]) == [10]
    assert count_vouchers(sessions) == 3


def test_a_voucher_used_by_two_tills_at_once_is_used_once(together, client_headers, member_with, service, client):
    tills = [("S1", client_headers("till", store="S1")), ("S2", client_headers("till", store="S2"))]

    def use(client: FlaskClient, n: int, *, code: str) -> Any:
        store, headers = tills[n]
        body = {"store_code": store, "receipt_no": f"R-{n}"}
        return client.post(f"/api/v1/vouchers/{code}/redeem", json=body, headers=headers)

    for _ in range(10):
        code = redemption(client, member_with(50), service).json["code"]
        responses = together(2, partial(use, code=code))
        assert statuses(responses) == {201: 1, 409: 1}
        winner = next(response.json for response in responses if response.status_code == 201)
        voucher = client.get(f"/api/v1/vouchers/{code}", headers=service).json
        assert (voucher["status"], voucher["redeemed_store_code"]) == ("redeemed", winner["redeemed_store_code"])


def test_redemptions_racing_purchases_and_returns_of_one_member_lose_no_points(
    together, client, admin, service, till, member_with, change_reward, sessions
):
    # The threshold's reward has a stock, so a purchase crossing it takes a unit while redemptions do.
    thresholds = {"thresholds": [{"points": 100, "reward_code": "FREESHIP"}]}
    assert client.put("/api/v1/admin/thresholds", json=thresholds, headers=admin).status_code == 200
    change_reward("FREESHIP", stock=1000)
    member = member_with(60)
    rounds = 20
    earlier = []
    for number in range(rounds):
        body = purchase_body(member_id=member["id"], receipt_no=f"EARLIER-{number}", total="20.00", lines=[])
        earlier.append(client.post("/api/v1/purchases", json=body, headers=till).json["id"])
    reset = 60 - balances(sessions, [member])[0]
    client.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": reset, "reason": "reset"}, headers=admin)

    def act(client: FlaskClient, n: int, *, number: int) -> Any:
        """Redeem FREESHIP, buy for 40.00, or bring back 10.00 of an earlier purchase."""
        if n == 0:
            return redemption(client, member, service)
        if n == 1:
            body = purchase_body(member_id=member["id"], receipt_no=f"RACE-{number}", total="40.00", lines=[])
            return client.post("/api/v1/purchases", json=body, headers=till)
        url = f"/api/v1/purchases/{earlier[number]}/returns"
        return client.post(url, json={"return_no": "RET-1", "amount": "10.00"}, headers=till)

    redemptions: Counter[int] = Counter()
    for number in range(rounds):
        redeemed, bought, returned = together(3, partial(act, number=number))
        assert (bought.status_code, returned.status_code) == (201, 201), (bought.json, returned.json)
        redemptions[redeemed.status_code] += 1
    assert set(redemptions) <= {201, 422}, redemptions
    with sessions() as session:
        redeemed_vouchers = session.scalar(
            select(func.count()).select_from(Voucher).where(Voucher.source == "redemption")
        )
        awarded, reversed_points = session.execute(
            select(func.sum(Purchase.points_awarded), func.sum(Purchase.points_reversed)).where(
                Purchase.member_id == member["id"]
            )
        ).one()
        spent = session.scalar(select(func.sum(Voucher.points_cost)).where(Voucher.member_id == member["id"]))
    assert redeemed_vouchers == redemptions[201]
    given = 60 + reset  # the welcome points, the top-up to 60 and the reset
    assert balances(sessions, [member]) == [given + awarded - reversed_points - spent]


def test_cancellations_racing_purchases_that_unlock_the_same_reward_both_complete(
    together, client, admin, till, make_member, change_reward, sessions
):
    thresholds = {"thresholds": [{"points": 100, "reward_code": "FREESHIP"}]}
    assert client.put("/api/v1/admin/thresholds", json=thresholds, headers=admin).status_code == 200
    change_reward("FREESHIP", stock=1000)
    members, vouchers = [], []
    for _ in range(10):
        member = make_member()
        # 100 qualifying points: vip, and FREESHIP issued at the threshold; then 60 points to spend.
        body = purchase_body(member_id=member["id"], total="90.00", lines=[])
        assert client.post("/api/v1/purchases", json=body, headers=till).status_code == 201
        top_up = {"points": 10, "reason": "top-up"}
        assert client.post(f"/api/v1/members/{member['id']}/adjustments", json=top_up, headers=admin).status_code == 201
        [voucher] = client.get(f"/api/v1/members/{member['id']}/vouchers", headers=admin).json
        members.append(member)
        vouchers.append(voucher["code"])

    def act(client: FlaskClient, n: int) -> Any:
        if n % 2:
            return client.post(f"/api/v1/vouchers/{vouchers[n // 2]}/cancel", headers=admin)
        body = purchase_body(member_id=members[n // 2]["id"], total="40.00", lines=[])
        return client.post("/api/v1/purchases", json=body, headers=till)

    responses = together(20, act)
    assert [response.status_code for response in responses] == [201, 200] * 10
    # Cancelled first: 60 + 50, then 60 for the purchase, no threshold crossed (170). Bought first:
    # 60 + 60 crosses 100 and FREESHIP takes 50, then 50 come back (120).
    assert set(balances(sessions, members)) <= {170, 120}
