"""Recording purchases from tills: points, replays and conflicts."""

from __future__ import annotations

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
