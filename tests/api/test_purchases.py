"""Recording purchases from tills: points, replays and conflicts."""

from __future__ import annotations

import pytest

from tests.builders import purchase_body


def test_purchase_awards_one_point_per_whole_euro(client, till, make_member):
    member = make_member()
    response = client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"]), headers=till)
    assert response.status_code == 201
    assert response.json["points_awarded"] == 45
    assert response.json["points_balance"] == 45


def test_replayed_receipt_awards_points_once(client, till, make_member, admin):
    member = make_member()
    body = purchase_body(member_id=member["id"])
    first = client.post("/api/v1/purchases", json=body, headers=till)
    again = client.post("/api/v1/purchases", json=body, headers=till)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    ledger = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"]
    assert [entry["points"] for entry in ledger] == [45]


def test_purchase_by_card_number_credits_the_card_holder(client, till, make_member):
    member = make_member()
    response = client.post("/api/v1/purchases", json=purchase_body(card_number=member["card_number"]), headers=till)
    assert response.status_code == 201
    assert (response.json["member_id"], response.json["points_balance"]) == (member["id"], 45)


def test_purchase_with_an_unknown_card_number_is_refused(client, till):
    response = client.post("/api/v1/purchases", json=purchase_body(card_number="2900000000000007"), headers=till)
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "card_number"


def test_purchase_naming_a_member_and_another_members_card_is_refused(client, till, make_member):
    member, other = make_member(), make_member()
    body = purchase_body(member_id=member["id"], card_number=other["card_number"])
    response = client.post("/api/v1/purchases", json=body, headers=till)
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "card_number"


def test_purchase_naming_a_member_and_their_own_card_is_accepted(client, till, make_member):
    member = make_member()
    body = purchase_body(member_id=member["id"], card_number=member["card_number"])
    assert client.post("/api/v1/purchases", json=body, headers=till).status_code == 201


def test_receipt_number_reused_with_other_content_is_a_conflict_and_awards_nothing(client, till, make_member, admin):
    member = make_member()
    body = purchase_body(member_id=member["id"])
    assert client.post("/api/v1/purchases", json=body, headers=till).status_code == 201
    response = client.post("/api/v1/purchases", json={**body, "total": "99.00"}, headers=till)
    assert response.status_code == 409
    assert response.json["invalid_params"][0]["name"] == "receipt_no"
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"] == 45


def test_same_receipt_number_in_another_store_is_another_purchase(client, admin, make_member):
    member = make_member()
    body = purchase_body(member_id=member["id"])
    first = client.post("/api/v1/purchases", json=body, headers=admin)
    second = client.post("/api/v1/purchases", json={**body, "store_code": "S2"}, headers=admin)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["id"] != second.json["id"]
    assert second.json["points_balance"] == 90


def test_replay_answers_the_original_result_even_after_later_purchases(client, till, make_member):
    member = make_member()
    body = purchase_body(member_id=member["id"])
    first = client.post("/api/v1/purchases", json=body, headers=till)
    client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"]), headers=till)
    again = client.post("/api/v1/purchases", json=body, headers=till)
    assert again.status_code == 200
    assert again.json == first.json


def test_anonymous_purchase_earns_nothing_until_claimed(client, till, make_purchase, admin):
    purchase = make_purchase()
    assert purchase["member_id"] is None
    assert (purchase["points_awarded"], purchase["points_balance"]) == (0, None)
    detail = client.get(f"/api/v1/purchases/{purchase['id']}", headers=admin).json
    assert detail["claimed_at"] is None


def test_beauty_lines_earn_double_points(make_member, make_purchase):
    member = make_member()
    lines = [
        {"sku": "LIPSTICK", "category": "beauty", "quantity": 1, "unit_price": "15.50"},
        {"sku": "SHOE-42", "category": "shoes", "quantity": 1, "unit_price": "20.00"},
    ]
    purchase = make_purchase(member_id=member["id"], total="35.50", lines=lines)
    assert purchase["points_awarded"] == 51


def test_purchase_without_lines_earns_on_its_total(make_member, make_purchase):
    member = make_member()
    assert make_purchase(member_id=member["id"], total="12.99", lines=[])["points_awarded"] == 12


def test_receipt_discount_is_spread_over_the_lines(make_member, make_purchase):
    member = make_member()
    lines = [
        {"sku": "CREAM", "category": "beauty", "quantity": 1, "unit_price": "20.00"},
        {"sku": "SHOE-42", "category": "shoes", "quantity": 1, "unit_price": "20.00"},
    ]
    # 40.00 of goods paid 30.00: 15.00 of beauty (x2) and 15.00 of shoes.
    assert make_purchase(member_id=member["id"], total="30.00", lines=lines)["points_awarded"] == 45


def test_purchase_counts_on_the_member_and_keeps_the_latest_date(client, admin, make_member, make_purchase):
    member = make_member()
    make_purchase(member_id=member["id"], occurred_at="2026-11-22T09:30:00+00:00")
    make_purchase(member_id=member["id"], occurred_at="2026-11-20T08:00:00+01:00")
    profile = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
    assert profile["purchase_count"] == 2
    assert profile["last_purchase_at"] == "2026-11-22T09:30:00+00:00"


def test_purchase_time_is_answered_in_utc(make_member, make_purchase):
    member = make_member()
    purchase = make_purchase(member_id=member["id"], occurred_at="2026-11-22T10:15:00+01:00")
    assert purchase["occurred_at"] == "2026-11-22T09:15:00+00:00"


@pytest.mark.parametrize(
    ("occurred_at", "status"),
    [
        ("2026-11-22T10:10:00+00:00", 201),
        ("2026-11-22T10:10:00.000001+00:00", 422),
        ("2025-11-22T10:00:00+00:00", 201),
        ("2025-11-22T09:59:59+00:00", 422),
    ],
    ids=["ten minutes ahead", "beyond ten minutes ahead", "a year old", "older than a year"],
)
def test_purchase_date_must_be_within_clock_skew_and_a_year(client, till, make_member, occurred_at, status):
    member = make_member()
    body = purchase_body(member_id=member["id"], occurred_at=occurred_at)
    response = client.post("/api/v1/purchases", json=body, headers=till)
    assert response.status_code == status
    if status == 422:
        assert response.json["invalid_params"][0]["name"] == "occurred_at"


def test_purchase_in_another_currency_is_refused(client, till, make_member):
    member = make_member()
    response = client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"], currency="USD"), headers=till)
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "currency"


def test_purchase_details_show_lines_and_what_was_returned(client, till, make_member, make_purchase):
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    returned = client.post(
        f"/api/v1/purchases/{purchase['id']}/returns",
        json={"return_no": "RET-1", "lines": [{"sku": "SOCK-1", "quantity": 1}]},
        headers=till,
    )
    assert returned.status_code == 201
    detail = client.get(f"/api/v1/purchases/{purchase['id']}", headers=till).json
    assert detail["returned_amount"] == "12.95"
    assert detail["points_reversed"] == 12
    assert [(line["sku"], line["quantity"], line["returned_quantity"]) for line in detail["lines"]] == [
        ("SHOE-42", 1, 0),
        ("SOCK-1", 2, 1),
    ]
