"""What the API does with request bodies before any schema reads them."""

from __future__ import annotations

import pytest

from app.api import MAX_JSON_DEPTH


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 5000])
def test_a_body_nested_too_deeply_is_a_bad_request(client, admin, depth):
    body = "[" * depth + "]" * depth
    response = client.post("/api/v1/members", data=body, content_type="application/json", headers=admin)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["invalid_params"] == [
        {"name": "body", "in": "json", "reason": f"Nested more than {MAX_JSON_DEPTH} levels deep."}
    ]


def test_a_body_nested_too_deeply_is_a_bad_request_even_with_an_idempotency_key(client, admin):
    body = "[" * 5000 + "]" * 5000
    headers = {**admin, "Idempotency-Key": "deep-1"}
    response = client.post("/api/v1/members", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_an_unsupported_media_type(client, admin, content_type):
    body = '{"email": "jean@example.com", "first_name": "Jean", "last_name": "Duchemin"}'
    response = client.post("/api/v1/members", data=body, content_type=content_type, headers=admin)
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert "application/json" in response.json["detail"]


def test_a_json_media_type_with_parameters_is_json(client, admin):
    body = '{"email": "jean@example.com", "first_name": "Jean", "last_name": "Duchemin"}'
    response = client.post("/api/v1/members", data=body, content_type="application/json; charset=utf-8", headers=admin)
    assert response.status_code == 201, response.json


def test_a_patch_without_a_body_is_refused_and_changes_nothing(client, admin, make_member):
    member = make_member()
    response = client.patch(f"/api/v1/members/{member['id']}", headers=admin)
    assert response.status_code == 422
    assert response.json["invalid_params"] == [
        {"name": "body", "in": "json", "reason": "A JSON body is required: the fields to change."}
    ]
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["updated_at"] == member["updated_at"]


def test_an_error_about_a_path_parameter_says_it_is_in_the_path(client, admin, make_member):
    reward = {"code": "GIFT", "name": "A gift", "kind": "gift", "cost_points": 0, "validity_days": 30}
    assert client.post("/api/v1/admin/rewards", json=reward, headers=admin).status_code == 201
    again = client.post("/api/v1/admin/rewards", json=reward, headers=admin)
    assert (again.status_code, again.json["invalid_params"][0]["in"]) == (409, "json")  # the code in the body
    member = make_member()
    voucher = client.post(f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": "GIFT"}, headers=admin)
    code = voucher.json["code"]
    use = {"store_code": "S1", "receipt_no": "0001"}
    assert client.post(f"/api/v1/vouchers/{code}/redeem", json=use, headers=admin).status_code == 201
    cancelled = client.post(f"/api/v1/vouchers/{code}/cancel", headers=admin)
    assert (cancelled.status_code, cancelled.json["invalid_params"][0]["name"], cancelled.json["invalid_params"][0]["in"]) == (
        409, "code", "path"
    )  # fmt: skip
