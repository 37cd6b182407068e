"""Offer rewards are given by scenarios, never bought with points nor shown in the catalog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import DEFAULT_PROGRAM

Headers = dict[str, str]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


def test_an_offer_is_not_in_the_catalog_and_cannot_be_redeemed_with_points(
    client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]]
) -> None:
    member = make_member()
    catalog = client.get(f"/api/v1/rewards?member_id={member['id']}", headers=admin).json
    public = client.get("/api/v1/rewards", headers=admin).json
    offers = {"VIPOFFER20", "COMEBACK10", "COMEBACK20", "FIRSTBUY10", "BIRTHDAY10"}
    assert offers.isdisjoint(item["code"] for item in catalog)
    assert offers.isdisjoint(item["code"] for item in public)

    response = client.post(f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": "BIRTHDAY10"}, headers=admin)

    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "reward_code"
