"""Vouchers at the till: looked up, used once per receipt, cancelled while unused.

Each test's voucher is a FREESHIP of the shipped default program (50 points, valid 60 days, 3 in stock
here), redeemed by a member who had exactly 50 points.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEFAULT_PROGRAM, NOW

Voucher = dict[str, Any]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def member(client, admin, make_member) -> dict[str, Any]:
    """A member with 50 points: the 10 of their new account and 40 given by hand."""
    member = make_member()
    response = client.post(
        f"/api/v1/members/{member['id']}/adjustments", json={"points": 40, "reason": "test balance"}, headers=admin
    )
    assert response.json["points_balance"] == 50
    return member


@pytest.fixture
def voucher(client, admin, member, login) -> Voucher:
    """The member's FREESHIP voucher; 2 units of FREESHIP are left in stock."""
    assert client.patch("/api/v1/admin/rewards/FREESHIP", json={"stock": 3}, headers=admin).status_code == 200
    response = client.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": "FREESHIP"}, headers=login(member)
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def use(client, till) -> Callable[..., Any]:
    """``use(voucher, "R1")``: the till of store S1 (by default) uses the voucher for a receipt."""

    def post(voucher: Voucher, receipt_no: str, *, store: str = "S1", headers: dict[str, str] | None = None) -> Any:
        return client.post(
            f"/api/v1/vouchers/{voucher['code']}/redeem",
            json={"store_code": store, "receipt_no": receipt_no},
            headers=headers or till,
        )

    return post


@pytest.fixture
def cancel(client, admin) -> Callable[..., Any]:
    def post(voucher: Voucher, *, headers: dict[str, str] | None = None) -> Any:
        return client.post(f"/api/v1/vouchers/{voucher['code']}/cancel", headers=headers or admin)

    return post


@pytest.fixture
def state_of(client, admin) -> Callable[[Voucher], str]:
    def read(voucher: Voucher) -> str:
        return client.get(f"/api/v1/vouchers/{voucher['code']}", headers=admin).json["status"]

    return read


@pytest.fixture
def holdings(client, admin) -> Callable[[dict[str, Any]], tuple[int, int]]:
    """``holdings(member)``: the member's balance and the units of FREESHIP left in stock."""

    def read(member: dict[str, Any]) -> tuple[int, int]:
        balance = client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"]
        rewards = client.get("/api/v1/admin/rewards", headers=admin).json
        return balance, next(reward["stock"] for reward in rewards if reward["code"] == "FREESHIP")

    return read


def test_a_till_looks_a_voucher_up_before_accepting_it(client, till, voucher):
    response = client.get(f"/api/v1/vouchers/{voucher['code']}", headers=till)
    assert response.status_code == 200
    assert response.json == voucher
    assert (response.json["status"], response.json["reward_code"]) == ("issued", "FREESHIP")


def test_a_voucher_code_is_read_whatever_its_case(client, till, voucher):
    response = client.get(f"/api/v1/vouchers/{voucher['code'].lower()}", headers=till)
    assert (response.status_code, response.json["code"]) == (200, voucher["code"])


def test_an_unknown_voucher_code_is_not_found(client, till):
    assert client.get("/api/v1/vouchers/AAAA-BBBB-CCCC-DDDD", headers=till).status_code == 404


def test_a_voucher_is_used_once_for_a_receipt(voucher, use, state_of):
    response = use(voucher, "R1")
    assert response.status_code == 201
    used = ("status", "redeemed_at", "redeemed_store_code", "redeemed_receipt_no")
    assert {key: response.json[key] for key in used} == {
        "status": "redeemed",
        "redeemed_at": NOW.isoformat(),
        "redeemed_store_code": "S1",
        "redeemed_receipt_no": "R1",
    }
    assert state_of(voucher) == "redeemed"


def test_the_same_till_retrying_the_same_receipt_gets_the_original_answer(voucher, use, clock):
    first = use(voucher, "R1")
    clock.advance(timedelta(minutes=5))
    again = use(voucher, "R1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json


def test_a_used_voucher_is_refused_for_another_receipt(voucher, use, client_headers):
    assert use(voucher, "R1").status_code == 201
    other_receipt = use(voucher, "R2")
    assert (other_receipt.status_code, other_receipt.json["detail"]) == (409, "this voucher has already been used")
    elsewhere = use(voucher, "R1", store="S2", headers=client_headers("till", store="S2"))
    assert elsewhere.status_code == 409


def test_a_voucher_past_its_expiry_is_refused(voucher, use, state_of, clock):
    clock.set(NOW + timedelta(days=60) - timedelta(seconds=1))
    assert state_of(voucher) == "issued"
    clock.advance(timedelta(seconds=1))
    assert state_of(voucher) == "expired"
    response = use(voucher, "R1")
    assert (response.status_code, response.json["detail"]) == (422, "this voucher has expired")


def test_a_voucher_is_usable_until_the_last_instant_before_it_expires(voucher, use, clock):
    clock.set(NOW + timedelta(days=60) - timedelta(seconds=1))
    assert use(voucher, "R1").status_code == 201


def test_a_till_may_use_vouchers_only_for_its_own_store(voucher, use, client_headers, state_of):
    other_store = client_headers("till", store="S2")
    assert use(voucher, "R1", store="S1", headers=other_store).status_code == 403
    assert state_of(voucher) == "issued"
    assert use(voucher, "R1", store="S2", headers=other_store).status_code == 201


def test_cancelling_an_unused_voucher_gives_back_its_points_and_its_unit(
    client, admin, member, voucher, cancel, holdings, state_of, login
):
    assert holdings(member) == (0, 2)
    response = cancel(voucher, headers=login(member))
    assert response.status_code == 200
    assert (response.json["status"], response.json["cancelled_at"]) == ("cancelled", NOW.isoformat())
    assert holdings(member) == (50, 3)
    entry = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"][0]
    assert (entry["kind"], entry["points"], entry["reason"]) == ("reverse", 50, "voucher cancelled")
    assert state_of(voucher) == "cancelled"


def test_a_cancelled_voucher_can_be_neither_used_nor_cancelled_again(member, voucher, cancel, use, holdings):
    assert cancel(voucher).status_code == 200
    assert (use(voucher, "R1").status_code, cancel(voucher).status_code) == (409, 409)
    assert holdings(member) == (50, 3)


def test_a_used_voucher_cannot_be_cancelled(member, voucher, use, cancel, holdings):
    assert use(voucher, "R1").status_code == 201
    response = cancel(voucher)
    assert (response.status_code, response.json["detail"]) == (
        409,
        "only an unused voucher can be cancelled; this one is redeemed",
    )
    assert holdings(member) == (0, 2)


def test_an_expired_voucher_cannot_be_cancelled(member, voucher, cancel, holdings, clock):
    clock.advance(timedelta(days=60))
    assert cancel(voucher).status_code == 422
    assert holdings(member) == (0, 2)


def test_a_member_sees_and_cancels_only_their_own_vouchers(client, voucher, make_member, login, cancel, state_of):
    stranger = login(make_member())
    assert client.get(f"/api/v1/vouchers/{voucher['code']}", headers=stranger).status_code == 404
    assert cancel(voucher, headers=stranger).status_code == 404
    assert state_of(voucher) == "issued"


def test_a_member_lists_their_vouchers_newest_first_with_their_state(
    client, admin, member, voucher, use, login, make_member
):
    use(voucher, "R1")
    client.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 50, "reason": "gift"}, headers=admin)
    headers = login(member)
    url = f"/api/v1/members/{member['id']}/redemptions"
    second = client.post(url, json={"reward_code": "FREESHIP"}, headers=headers)
    listed = client.get(f"/api/v1/members/{member['id']}/vouchers", headers=headers)
    assert [(item["code"], item["status"]) for item in listed.json] == [
        (second.json["code"], "issued"),
        (voucher["code"], "redeemed"),
    ]
    stranger = login(make_member())
    assert client.get(f"/api/v1/members/{member['id']}/vouchers", headers=stranger).status_code == 403


def test_cancelling_a_threshold_voucher_gives_its_points_back_without_issuing_it_again(
    client, make_member, make_purchase, login, cancel
):
    member = make_member()
    make_purchase(member_id=member["id"], total="90.00", lines=[])  # 100 points: VOUCHER10 issued at the threshold
    headers = login(member)
    [issued] = client.get(f"/api/v1/members/{member['id']}/vouchers", headers=headers).json
    assert (issued["reward_code"], issued["source"], issued["status"]) == ("VOUCHER10", "threshold", "issued")
    assert cancel(issued, headers=headers).status_code == 200
    vouchers = client.get(f"/api/v1/members/{member['id']}/vouchers", headers=headers).json
    assert [(voucher["code"], voucher["status"]) for voucher in vouchers] == [(issued["code"], "cancelled")]
    assert client.get(f"/api/v1/members/{member['id']}", headers=headers).json["points_balance"] == 100
