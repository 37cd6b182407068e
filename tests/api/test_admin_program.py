"""Program settings and earning rules changed through the admin API apply to the next purchase."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, reset_database

RULES = "/api/v1/admin/earning-rules"


@pytest.fixture
def add_rule(client, admin):
    """``add_rule(kind="promotion", multiplier="2", …)``: create an earning rule and return it as JSON."""

    def add(**fields: Any) -> dict[str, Any]:
        response = client.post(RULES, json={"name": "test rule", **fields}, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    return add


@pytest.fixture
def earn(make_member, make_purchase):
    """``earn(**purchase_overrides)``: the points a new member earns for a purchase."""

    def points(**overrides: Any) -> int:
        return make_purchase(member_id=make_member()["id"], **overrides)["points_awarded"]

    return points


def test_default_program_is_one_point_per_euro_in_eur_with_double_beauty(client, admin):
    program = client.get("/api/v1/admin/program", headers=admin).json
    assert (program["currency"], program["points_per_unit"], program["claim_window_days"]) == ("EUR", "1.0000", 30)
    rules = client.get(RULES, headers=admin).json
    assert [(rule["kind"], rule["category"], rule["multiplier"]) for rule in rules] == [("category", "beauty", "2.0000")]


def test_a_category_has_one_active_multiplier(client, admin, add_rule):
    second = client.post(RULES, json={"name": "more beauty", "kind": "category", "category": "beauty", "multiplier": "3"}, headers=admin)
    assert second.status_code == 409, second.json
    assert [param["name"] for param in second.json["invalid_params"]] == ["category"]
    home = add_rule(kind="category", category="home", multiplier="3")
    moved = client.patch(f"{RULES}/{home['id']}", json={"category": "beauty"}, headers=admin)
    assert moved.status_code == 409, moved.json
    beauty = next(rule for rule in client.get(RULES, headers=admin).json if rule["category"] == "beauty")
    assert client.patch(f"{RULES}/{beauty['id']}", json={"is_active": False}, headers=admin).status_code == 200
    assert client.patch(f"{RULES}/{home['id']}", json={"category": "beauty"}, headers=admin).status_code == 200


def test_new_base_rate_applies_to_the_next_purchase_not_to_earlier_ones(client, admin, make_member, make_purchase):
    member = make_member()
    before = make_purchase(member_id=member["id"])
    assert client.patch("/api/v1/admin/program", json={"points_per_unit": "2.5"}, headers=admin).status_code == 200
    after = make_purchase(member_id=member["id"])
    assert (before["points_awarded"], after["points_awarded"]) == (45, 114)
    assert client.get(f"/api/v1/purchases/{before['id']}", headers=admin).json["points_awarded"] == 45


def test_minimum_amount_leaves_smaller_purchases_without_points(client, admin, earn):
    assert client.patch("/api/v1/admin/program", json={"minimum_amount": "50.00"}, headers=admin).status_code == 200
    assert earn(total="49.99", lines=[]) == 0
    assert earn(total="50.00", lines=[]) == 50


def test_a_purchase_above_its_channels_or_stores_bound_is_refused(client, admin, till, make_purchase):
    bounds = {"max_total_by_channel": {"store": "1000"}, "max_total_by_store": {"S1": "500.00", "S9": "2000"}}
    settings = client.patch("/api/v1/admin/program", json=bounds, headers=admin).json
    assert (settings["max_total_by_channel"], settings["max_total_by_store"]) == (
        {"store": "1000.00"}, {"S1": "500.00", "S9": "2000.00"},
    )  # fmt: skip
    over = client.post("/api/v1/purchases", json=purchase_body(total="500.01", lines=[]), headers=till)
    assert over.status_code == 422
    assert [param["name"] for param in over.json["invalid_params"]] == ["total"]
    assert "500.00" in over.json["detail"]
    assert make_purchase(total="500.00", lines=[])["total"] == "500.00"
    at_s9 = purchase_body(store_code="S9", total="1000.01", lines=[])
    assert client.post("/api/v1/purchases", json=at_s9, headers=admin).status_code == 422  # the channel's bound
    assert client.post("/api/v1/purchases", json={**at_s9, "channel": "web"}, headers=admin).status_code == 201


def test_the_default_program_refuses_a_receipt_of_ten_million(app, clock, client, client_headers):
    reset_database(app, clock, DEFAULT_PROGRAM)
    body = purchase_body(total="10000000.00", lines=[])
    response = client.post("/api/v1/purchases", json=body, headers=client_headers("admin"))
    assert response.status_code == 422 and response.json["invalid_params"][0]["name"] == "total"


def test_currency_cannot_be_changed(client, admin):
    client.patch("/api/v1/admin/program", json={"currency": "USD"}, headers=admin)
    assert client.get("/api/v1/admin/program", headers=admin).json["currency"] == "EUR"


def test_new_category_rule_applies_to_the_next_purchase(add_rule, earn):
    add_rule(kind="category", category="shoes", multiplier="3")
    # SHOE-42 20.00 × 3 + SOCK-1 25.90
    assert earn() == 85


def test_promotion_applies_only_within_its_window(add_rule, earn):
    add_rule(kind="promotion", multiplier="2", starts_at="2026-11-22T09:00:00+00:00", ends_at="2026-11-22T10:00:00+00:00")
    assert earn(occurred_at="2026-11-22T09:00:00+00:00") == 91
    assert earn(occurred_at="2026-11-22T08:59:59+00:00") == 45
    assert earn(occurred_at="2026-11-22T10:00:00+00:00") == 45


def test_promotion_on_one_channel_leaves_the_others_alone(add_rule, earn):
    add_rule(kind="promotion", multiplier="3", channel="web")
    assert (earn(channel="web"), earn(channel="store")) == (137, 45)


def test_largest_of_several_promotions_wins(add_rule, earn):
    add_rule(kind="promotion", multiplier="2")
    add_rule(kind="promotion", multiplier="3")
    assert earn() == 137


def test_suspended_rule_no_longer_applies_and_can_be_resumed(client, admin, add_rule, earn):
    rule = add_rule(kind="promotion", multiplier="2")
    assert client.patch(f"{RULES}/{rule['id']}", json={"is_active": False}, headers=admin).json["is_active"] is False
    assert earn() == 45
    client.patch(f"{RULES}/{rule['id']}", json={"is_active": True}, headers=admin)
    assert earn() == 91


def test_rule_created_suspended_does_not_apply_until_resumed(client, admin, add_rule, earn):
    rule = add_rule(kind="promotion", multiplier="2", is_active=False)
    assert rule["is_active"] is False
    assert earn() == 45
    client.patch(f"{RULES}/{rule['id']}", json={"is_active": True}, headers=admin)
    assert earn() == 91


def test_deleted_rule_no_longer_applies(client, admin, earn):
    beauty = client.get(RULES, headers=admin).json[0]
    lines = [{"sku": "CREAM", "category": "beauty", "quantity": 1, "unit_price": "10.00"}]
    assert earn(total="10.00", lines=lines) == 20
    assert client.delete(f"{RULES}/{beauty['id']}", headers=admin).status_code == 204
    assert earn(total="10.00", lines=lines) == 10
    assert client.get(RULES, headers=admin).json == []


def test_shorter_claim_window_applies_to_the_next_claim(client, admin, till, make_member, make_purchase, clock):
    purchase = make_purchase()
    assert client.patch("/api/v1/admin/program", json={"claim_window_days": 2}, headers=admin).status_code == 200
    clock.advance(timedelta(days=3))
    body = {"store_code": "S1", "receipt_no": purchase["receipt_no"]}
    assert client.post(f"/api/v1/members/{make_member()['id']}/claims", json=body, headers=till).status_code == 422


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "category", "multiplier": "2"}, "category"),
        ({"kind": "category", "category": "shoes", "channel": "web", "multiplier": "2"}, "kind"),
        (
            {"kind": "promotion", "multiplier": "2", "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"},
            "ends_at",
        ),
        ({"kind": "bonus", "multiplier": "2"}, "kind"),
        ({"kind": "promotion", "multiplier": "-1"}, "multiplier"),
    ],
    ids=["category without category", "category with channel", "empty window", "unknown kind", "negative multiplier"],
)
def test_inconsistent_rule_is_refused(client, admin, rule, field):
    response = client.post(RULES, json={"name": "bad", **rule}, headers=admin)
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == field


def test_update_that_makes_a_rule_inconsistent_is_refused_and_changes_nothing(client, admin, add_rule):
    rule = add_rule(kind="promotion", multiplier="2", starts_at="2026-12-01T00:00:00+00:00")
    rules = client.get(RULES, headers=admin).json
    response = client.patch(f"{RULES}/{rule['id']}", json={"ends_at": "2026-11-01T00:00:00+00:00"}, headers=admin)
    assert response.status_code == 422
    assert client.get(RULES, headers=admin).json == rules


def test_unknown_rule_is_not_found(client, admin):
    assert client.patch(f"{RULES}/999999", json={"is_active": False}, headers=admin).status_code == 404
    assert client.delete(f"{RULES}/999999", headers=admin).status_code == 404
