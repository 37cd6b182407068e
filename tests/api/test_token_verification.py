"""A worker verifies each token once and keeps its claims: never past the token's expiry."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask
from flask_jwt_extended import create_access_token, decode_token

from tests.conftest import Headers


def test_a_token_verified_before_is_refused_once_it_expires(app: Flask, client, service: Headers, make_member):
    member = make_member()
    with app.app_context():
        claims = decode_token(service["Authorization"].removeprefix("Bearer "))
        token = create_access_token(
            claims["sub"], additional_claims={"role": "service", "gen": claims["gen"]}, expires_delta=timedelta(seconds=5)
        )
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/members/{member['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/members/{member['id']}", headers=headers).status_code == 200  # the kept claims
    time.sleep(max(0.0, claims_expiry(app, token) - time.time()) + 0.1)
    response = client.get(f"/api/v1/members/{member['id']}", headers=headers)
    assert (response.status_code, response.json["detail"]) == (401, "The token has expired.")


def claims_expiry(app: Flask, token: str) -> float:
    with app.app_context():
        return float(decode_token(token, allow_expired=True)["exp"])


def test_a_kept_member_token_is_refused_once_its_session_is_logged_out(client, make_member, login):
    member = make_member()
    headers = login(member)
    assert client.get(f"/api/v1/members/{member['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/members/{member['id']}", headers=headers).status_code == 200  # the kept claims
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    response = client.get(f"/api/v1/members/{member['id']}", headers=headers)
    assert (response.status_code, response.json["detail"]) == (401, "The token has been revoked.")


def test_a_kept_refresh_token_is_no_access_token(client, make_member):
    member = make_member()
    tokens = client.post("/api/v1/auth/login", json={"email": member["email"], "password": "correct-horse"}).json
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    assert client.post("/api/v1/auth/refresh", headers=refresh).status_code == 200  # verified and kept
    assert client.get(f"/api/v1/members/{member['id']}", headers=refresh).status_code == 401
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get(f"/api/v1/members/{member['id']}", headers=access).json["id"] == member["id"]
