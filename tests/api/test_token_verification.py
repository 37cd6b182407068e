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
