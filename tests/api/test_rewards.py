"""The reward catalog, redemptions, and the point thresholds that unlock rewards.

The tests run on the shipped default program: FREESHIP (50 points), VOUCHER10 (100), VOUCHER20 (200),
VIPEVENT (0 points, vip members only, 200 in stock), VOUCHER10 issued automatically at 100 points, and
10 points for creating an account. Members are given points below 100 unless a test is about the
threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.outbox import OutboxEvent
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, NOW

Member = dict[str, Any]

#: 16 letters and digits without the look-alikes (0, 1, I, O), in four groups: 80 random bits.
VOUCHER_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$")
#: The qualifying points every member of the default program earns by creating their account.
WELCOME = 10


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def redeem(client, service) -> Callable[..., Any]:
    """``redeem(member, "FREESHIP")``: the response to a redemption (by a service client by default)."""

    def post(member: Member, reward_code: str, *, headers: dict[str, str] | None = None) -> Any:
        return client.post(
            f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": reward_code}, headers=headers or service
        )

    return post


@pytest.fixture
def balance_of(client, admin) -> Callable[[Member], int]:
    def read(member: Member) -> int:
        return client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"]

    return read


@pytest.fixture
def vouchers_of(client, admin) -> Callable[[Member], list[dict[str, Any]]]:
    def read(member: Member) -> list[dict[str, Any]]:
        return client.get(f"/api/v1/members/{member['id']}/vouchers", headers=admin).json

    return read


@pytest.fixture
def change_reward(client, admin) -> Callable[..., None]:
    """``change_reward("FREESHIP", stock=1)``: PATCH a reward of the catalog."""

    def patch(code: str, **changes: Any) -> None:
        response = client.patch(f"/api/v1/admin/rewards/{code}", json=changes, headers=admin)
        assert response.status_code == 200, response.json

    return patch


@pytest.fixture
def stock_of(client, admin) -> Callable[[str], int | None]:
    def read(code: str) -> int | None:
        rewards = client.get("/api/v1/admin/rewards", headers=admin).json
        return next(reward["stock"] for reward in rewards if reward["code"] == code)

    return read


@pytest.fixture
def vip(make_member, make_purchase) -> Member:
    """A vip member: 100 qualifying points (their VOUCHER10 was issued at the threshold: 0 points left)."""
    member = make_member()
    make_purchase(member_id=member["id"], total="90.00", lines=[])
    return member


def catalog(response: Any) -> list[tuple[str, bool]]:
    assert response.status_code == 200, response.json
    return [(item["code"], item["affordable"]) for item in response.json]


def unlocked(sessions) -> list[dict[str, Any]]:
    """The payloads of the ``RewardUnlocked`` events, oldest first."""
    with sessions() as session:
        stmt = select(OutboxEvent.payload).where(OutboxEvent.event_type == "RewardUnlocked").order_by(OutboxEvent.id)
        return list(session.scalars(stmt))


# The catalog


def test_the_catalog_tells_a_member_which_rewards_their_balance_covers(client, service, member_with):
    member = member_with(50)
    response = client.get(f"/api/v1/rewards?member_id={member['id']}", headers={**service, "Accept-Language": "en"})
    assert catalog(response) == [("FREESHIP", True), ("VOUCHER10", False), ("VOUCHER20", False)]
    assert response.json[0] == {
        "code": "FREESHIP",
        "name": "Free shipping",
        "description": "Free delivery on your next online order.",
        "kind": "free_shipping",
        "amount": None,
        "percent": None,
        "cost_points": 50,
        "min_tier_code": None,
        "affordable": True,
    }


def test_a_member_s_own_token_sees_their_own_catalog(client, member_with, make_member, login):
    member = member_with(100 - 1)
    other = make_member()
    own = catalog(client.get("/api/v1/rewards", headers=login(member)))
    assert own == [("FREESHIP", True), ("VOUCHER10", False), ("VOUCHER20", False)]
    # A member's token ignores member_id: it always answers for the caller.
    assert catalog(client.get(f"/api/v1/rewards?member_id={other['id']}", headers=login(member))) == own


def test_rewards_for_a_higher_tier_appear_once_the_member_reaches_it(client, service, vip):
    assert catalog(client.get(f"/api/v1/rewards?member_id={vip['id']}", headers=service)) == [
        ("VIPEVENT", True),
        ("FREESHIP", False),
        ("VOUCHER10", False),
        ("VOUCHER20", False),
    ]


def test_rewards_out_of_stock_inactive_or_outside_their_window_leave_the_catalog(
    client, service, vip, change_reward
):
    change_reward("VIPEVENT", stock=0)
    change_reward("FREESHIP", is_active=False)
    change_reward("VOUCHER10", active_from=(NOW + timedelta(days=1)).isoformat())
    change_reward("VOUCHER20", active_until=NOW.isoformat())
    assert catalog(client.get(f"/api/v1/rewards?member_id={vip['id']}", headers=service)) == []


def test_without_a_member_the_catalog_lists_every_reward_available_now(client, till, change_reward):
    change_reward("FREESHIP", is_active=False)
    response = client.get("/api/v1/rewards", headers=till)
    assert catalog(response) == [("VIPEVENT", False), ("VOUCHER10", False), ("VOUCHER20", False)]


# Redemptions


def test_redeeming_debits_the_cost_and_issues_a_voucher(client, member_with, login, redeem, balance_of, admin):
    member = member_with(60)
    response = redeem(member, "FREESHIP", headers=login(member))
    assert response.status_code == 201, response.json
    voucher = response.json
    assert VOUCHER_CODE.match(voucher["code"]), voucher["code"]
    assert {key: value for key, value in voucher.items() if key != "code"} == {
        "member_id": member["id"],
        "reward_code": "FREESHIP",
        "reward_name": "Livraison offerte",  # in the member's language: French, the program's default
        "kind": "free_shipping",
        "amount": None,
        "percent": None,
        "status": "issued",
        "points_cost": 50,
        "source": "redemption",
        "issued_at": NOW.isoformat(),
        "expires_at": (NOW + timedelta(days=60)).isoformat(),
        "redeemed_at": None,
        "redeemed_store_code": None,
        "redeemed_receipt_no": None,
        "cancelled_at": None,
    }
    assert balance_of(member) == 10
    entry = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"][0]
    assert (entry["kind"], entry["points"], entry["balance_after"], entry["reason"]) == (
        "redeem",
        -50,
        10,
        "reward FREESHIP",
    )


def test_a_fixed_amount_voucher_carries_its_amount(member_with, redeem, client, admin):
    member = member_with(99)
    client.patch("/api/v1/admin/rewards/VOUCHER10", json={"cost_points": 90}, headers=admin)
    voucher = redeem(member, "VOUCHER10").json
    assert (voucher["kind"], voucher["amount"], voucher["points_cost"]) == ("fixed_voucher", "10.00", 90)


def test_every_voucher_gets_its_own_unguessable_code(client, admin, member_with, redeem):
    reward = {"code": "SAMPLE", "name": "A free sample", "kind": "gift", "cost_points": 0, "validity_days": 30}
    assert client.post("/api/v1/admin/rewards", json=reward, headers=admin).status_code == 201
    member = member_with(WELCOME)
    codes = [redeem(member, "SAMPLE").json["code"] for _ in range(30)]
    assert all(VOUCHER_CODE.match(code) for code in codes), codes
    assert len(set(codes)) == 30
    # No shared prefix: the codes do not count up.
    assert len({code[:4] for code in codes}) > 20


def test_a_redemption_the_balance_does_not_cover_is_refused_and_changes_nothing(
    member_with, redeem, balance_of, vouchers_of
):
    member = member_with(49)
    response = redeem(member, "FREESHIP")
    assert response.status_code == 422
    assert response.json["detail"] == "this reward costs 50 points; the member has 49"
    assert response.json["invalid_params"][0]["name"] == "reward_code"
    assert (balance_of(member), vouchers_of(member)) == (49, [])


def test_the_last_unit_in_stock_goes_to_one_member_and_the_next_gets_a_conflict(
    member_with, redeem, balance_of, vouchers_of, change_reward, stock_of
):
    change_reward("FREESHIP", stock=1)
    first, second = member_with(50), member_with(50)
    assert redeem(first, "FREESHIP").status_code == 201
    refused = redeem(second, "FREESHIP")
    assert refused.status_code == 409
    assert refused.json["detail"] == "this reward is out of stock"
    assert (balance_of(first), balance_of(second), vouchers_of(second)) == (0, 50, [])
    assert stock_of("FREESHIP") == 0


def test_a_reward_for_a_higher_tier_is_refused_below_it(member_with, vip, redeem):
    member = member_with(50)
    refused = redeem(member, "VIPEVENT")
    assert refused.status_code == 422
    assert refused.json["detail"] == "this reward is for vip members and above"
    granted = redeem(vip, "VIPEVENT")
    assert (granted.status_code, granted.json["points_cost"]) == (201, 0)


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"active_from": (NOW + timedelta(seconds=1)).isoformat()},
        {"active_until": NOW.isoformat()},
    ],
    ids=["inactive", "not-yet-open", "closed"],
)
def test_a_reward_that_is_not_available_now_cannot_be_redeemed(change, member_with, redeem, balance_of, change_reward):
    change_reward("FREESHIP", **change)
    member = member_with(50)
    response = redeem(member, "FREESHIP")
    assert (response.status_code, response.json["detail"]) == (422, "this reward is not available now")
    assert balance_of(member) == 50


def test_a_reward_is_available_from_the_first_instant_of_its_window(member_with, redeem, change_reward):
    change_reward("FREESHIP", active_from=NOW.isoformat(), active_until=(NOW + timedelta(seconds=1)).isoformat())
    assert redeem(member_with(50), "FREESHIP").status_code == 201


def test_an_unknown_reward_is_refused_naming_the_field(member_with, redeem):
    response = redeem(member_with(50), "NOPE")
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "reward_code"


def test_a_retried_redemption_with_its_idempotency_key_issues_one_voucher(
    client, member_with, login, balance_of, vouchers_of
):
    member = member_with(99)
    headers = {**login(member), "Idempotency-Key": "redeem-1"}
    url = f"/api/v1/members/{member['id']}/redemptions"
    first = client.post(url, json={"reward_code": "FREESHIP"}, headers=headers)
    again = client.post(url, json={"reward_code": "FREESHIP"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert (balance_of(member), len(vouchers_of(member))) == (49, 1)
    other = client.post(url, json={"reward_code": "VOUCHER10"}, headers=headers)
    assert other.status_code == 409
    assert other.json["invalid_params"][0]["name"] == "Idempotency-Key"


def test_a_member_cannot_redeem_another_member_s_points(client, member_with, login, redeem, balance_of):
    member, other = member_with(50), member_with(50)
    assert redeem(other, "FREESHIP", headers=login(member)).status_code == 403
    assert balance_of(other) == 50


# Point thresholds


@pytest.mark.parametrize(("balance", "issued"), [(99, False), (100, True), (101, True)])
def test_reaching_the_threshold_issues_its_reward_automatically(
    balance, issued, make_member, make_purchase, sessions, vouchers_of
):
    member = make_member()
    purchase = make_purchase(member_id=member["id"], total=f"{balance - WELCOME}.00", lines=[])
    expected = [{"occurred_at": NOW.isoformat(), "member_id": member["id"], "threshold": 100,
                 "reward_code": "VOUCHER10", "auto_issue": True}]
    assert unlocked(sessions) == (expected if issued else [])
    assert purchase["points_balance"] == (balance - 100 if issued else balance)
    vouchers = vouchers_of(member)
    assert [(voucher["reward_code"], voucher["source"], voucher["points_cost"]) for voucher in vouchers] == (
        [("VOUCHER10", "threshold", 100)] if issued else []
    )


def test_the_receipt_and_its_replay_print_the_balance_left_by_the_automatic_reward(client, till, admin, make_member):
    member = make_member()
    body = purchase_body(member_id=member["id"], total="95.00", lines=[])
    first = client.post("/api/v1/purchases", json=body, headers=till)
    again = client.post("/api/v1/purchases", json=body, headers=till)
    assert (first.status_code, again.status_code) == (201, 200)
    left = WELCOME + 95 - 100  # VOUCHER10 issued in the purchase's transaction
    assert first.json["points_balance"] == again.json["points_balance"] == left
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"] == left


def test_a_threshold_is_unlocked_once_per_crossing(client, admin, make_member, make_purchase, sessions):
    member = make_member()
    make_purchase(member_id=member["id"], total="90.00", lines=[])  # 100: VOUCHER10 issued, 0 left
    make_purchase(member_id=member["id"], total="50.00", lines=[])  # 75 at the vip rate: below 100
    assert len(unlocked(sessions)) == 1
    make_purchase(member_id=member["id"], total="20.00", lines=[])  # 30 more: across 100 again
    assert len(unlocked(sessions)) == 2
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"] == 5


def test_a_claim_threshold_leaves_the_reward_for_the_member_to_redeem(
    client, admin, make_member, make_purchase, sessions, vouchers_of, redeem, balance_of
):
    saved = client.put(
        "/api/v1/admin/thresholds",
        json={"thresholds": [{"points": 100, "reward_code": "VOUCHER10", "auto_issue": False}]},
        headers=admin,
    )
    assert saved.json == {
        "thresholds": [{"points": 100, "reward_code": "VOUCHER10", "auto_issue": False, "is_active": True}]
    }
    member = make_member()
    make_purchase(member_id=member["id"], total="90.00", lines=[])
    assert [event["auto_issue"] for event in unlocked(sessions)] == [False]
    assert (balance_of(member), vouchers_of(member)) == (100, [])
    assert redeem(member, "VOUCHER10").status_code == 201
    assert balance_of(member) == 0


def test_an_automatic_reward_out_of_stock_is_left_to_claim_and_the_credit_stands(
    make_member, make_purchase, change_reward, sessions, balance_of, vouchers_of
):
    change_reward("VOUCHER10", stock=0)
    member = make_member()
    purchase = make_purchase(member_id=member["id"], total="90.00", lines=[])
    assert purchase["points_balance"] == 100
    assert [event["reward_code"] for event in unlocked(sessions)] == ["VOUCHER10"]
    assert (balance_of(member), vouchers_of(member)) == (100, [])


def test_one_credit_across_two_thresholds_issues_what_the_points_cover(
    client, admin, make_member, make_purchase, sessions, balance_of, vouchers_of
):
    thresholds = [{"points": 50, "reward_code": "FREESHIP"}, {"points": 100, "reward_code": "VOUCHER10"}]
    assert client.put("/api/v1/admin/thresholds", json={"thresholds": thresholds}, headers=admin).status_code == 200
    member = make_member()
    make_purchase(member_id=member["id"], total="90.00", lines=[])
    assert [event["threshold"] for event in unlocked(sessions)] == [50, 100]
    # FREESHIP took 50 of the 100 points; VOUCHER10's 100 are no longer there: it is left to claim.
    assert [voucher["reward_code"] for voucher in vouchers_of(member)] == ["FREESHIP"]
    assert balance_of(member) == 50


@pytest.mark.parametrize(
    ("thresholds", "field"),
    [
        ([{"points": 100, "reward_code": "NOPE"}], "thresholds.0.reward_code"),
        ([{"points": 100, "reward_code": "VOUCHER10"}, {"points": 100, "reward_code": "FREESHIP"}], "thresholds"),
    ],
    ids=["unknown-reward", "same-points"],
)
def test_thresholds_must_name_an_existing_reward_at_distinct_points(thresholds, field, client, admin):
    response = client.put("/api/v1/admin/thresholds", json={"thresholds": thresholds}, headers=admin)
    assert response.status_code == 422
    assert [param["name"] for param in response.json["invalid_params"]] == [field]
    assert client.get("/api/v1/admin/thresholds", headers=admin).json["thresholds"] == [
        {"points": 100, "reward_code": "VOUCHER10", "auto_issue": True, "is_active": True}
    ]
