"""Browsers on the configured origins may call the API (app/cors.py); others are not told they may."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app import create_app
from tests.conftest import Headers

SHOP = "https://shop.example.com"


@pytest.fixture
def app_with_origins(app: Flask) -> Iterator[Any]:
    """``app_with_origins([...])``: a test client of the application with those CORS origins."""
    made: list[Flask] = []

    def make(origins: list[str]) -> Any:
        other = create_app({**app.config, "LOYALTY_CORS_ORIGINS": origins})
        made.append(other)
        return other.test_client()

    yield make
    for other in made:
        other.extensions["loyalty.engine"].dispose()


def preflight(client: Any, origin: str) -> Any:
    return client.options(
        "/api/v1/purchases",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )


def test_a_configured_origin_passes_the_preflight(app_with_origins):
    response = preflight(app_with_origins([SHOP, "https://app.example.com"]), SHOP)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_another_origin_is_not_allowed(app_with_origins):
    response = preflight(app_with_origins([SHOP]), "https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_no_origin_is_allowed_by_default(client):
    assert "Access-Control-Allow-Origin" not in preflight(client, SHOP).headers


def test_any_origin_never_comes_with_credentials(app_with_origins):
    response = preflight(app_with_origins(["*"]), "https://anywhere.example.org")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_an_answer_exposes_the_headers_scripts_need(app_with_origins, admin: Headers):
    client = app_with_origins([SHOP])
    response = client.get("/api/v1/rewards", headers={**admin, "Origin": SHOP})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
