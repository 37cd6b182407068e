"""Claims: a member attaches an anonymous receipt to their account within the claim window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

Claim = Callable[..., Any]


@pytest.fixture
def claim(client, till) -> Claim:
    """``claim(member_id, purchase)``: claim that purchase for the member from store S1's till."""

    def post(member_id: int, purchase: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        body = {"store_code": purchase["store_code"], "receipt_no": purchase["receipt_no"]}
        return client.post(f"/api/v1/members/{member_id}/claims", json=body, headers=headers or till)

    return post


def test_claim_awards_the_points_of_an_anonymous_purchase(claim, make_member, make_purchase, client, admin):
    member, purchase = make_member(), make_purchase()
    response = claim(member["id"], purchase)
    assert response.status_code == 201
    assert response.json["id"] == purchase["id"]
    assert (response.json["member_id"], response.json["points_awarded"], response.json["points_balance"]) == (
        member["id"],
        45,
        45,
    )
    profile = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
    assert (profile["points_balance"], profile["purchase_count"]) == (45, 1)
    detail = client.get(f"/api/v1/purchases/{purchase['id']}", headers=admin).json
    assert detail["claimed_at"] == "2026-11-22T10:00:00+00:00"


def test_member_claims_a_receipt_from_the_app(claim, make_member, make_purchase, login):
    member, purchase = make_member(), make_purchase()
    response = claim(member["id"], purchase, headers=login(member))
    assert (response.status_code, response.json["points_balance"]) == (201, 45)


def test_claiming_again_answers_the_original_result_and_awards_once(claim, make_member, make_purchase):
    member, purchase = make_member(), make_purchase()
    first = claim(member["id"], purchase)
    again = claim(member["id"], purchase)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json


def test_purchase_claimed_by_another_member_is_a_conflict(claim, make_member, make_purchase, client, admin):
    winner, loser, purchase = make_member(), make_member(), make_purchase()
    assert claim(winner["id"], purchase).status_code == 201
    response = claim(loser["id"], purchase)
    assert response.status_code == 409
    assert client.get(f"/api/v1/members/{loser['id']}", headers=admin).json["points_balance"] == 0


def test_purchase_recorded_for_a_member_cannot_be_claimed_by_another(claim, make_member, make_purchase):
    owner, other = make_member(), make_member()
    purchase = make_purchase(member_id=owner["id"])
    assert claim(other["id"], purchase).status_code == 409
    assert claim(owner["id"], purchase).status_code == 200


@pytest.mark.parametrize(("after", "status"), [(timedelta(days=30), 201), (timedelta(days=30, microseconds=1), 422)])
def test_claim_is_accepted_up_to_the_end_of_the_claim_window(claim, make_member, make_purchase, clock, after, status):
    member, purchase = make_member(), make_purchase()
    clock.set(datetime.fromisoformat(purchase["occurred_at"]) + after)
    response = claim(member["id"], purchase)
    assert response.status_code == status
    if status == 422:
        assert response.json["invalid_params"][0]["name"] == "receipt_no"


def test_claim_of_an_unknown_receipt_is_refused(claim, make_member):
    response = claim(make_member()["id"], {"store_code": "S1", "receipt_no": "NOPE"})
    assert response.status_code == 422


def test_claim_for_an_unknown_member_is_not_found(claim, make_purchase):
    assert claim(999_999, make_purchase()).status_code == 404


def test_claim_earns_with_the_rules_of_the_day_of_purchase(claim, make_member, make_purchase, client, admin, clock):
    promotion = {
        "kind": "promotion",
        "name": "Black Friday",
        "multiplier": "3",
        "starts_at": "2026-11-22T00:00:00+00:00",
        "ends_at": "2026-11-23T00:00:00+00:00",
    }
    assert client.post("/api/v1/admin/earning-rules", json=promotion, headers=admin).status_code == 201
    member, purchase = make_member(), make_purchase()
    clock.advance(timedelta(days=5))
    assert claim(member["id"], purchase).json["points_awarded"] == 137  # floor(45.90 × 3)


def test_claim_after_a_return_awards_only_what_was_kept(claim, make_member, make_purchase, client, till, admin):
    member, purchase = make_member(), make_purchase()
    returned = client.post(
        f"/api/v1/purchases/{purchase['id']}/returns", json={"return_no": "RET-1", "amount": "10.00"}, headers=till
    )
    assert returned.status_code == 201
    response = claim(member["id"], purchase)
    assert (response.json["points_awarded"], response.json["points_balance"]) == (45, 36)
    ledger = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"]
    assert [(entry["kind"], entry["points"]) for entry in ledger] == [("reverse", -9), ("earn", 45)]
