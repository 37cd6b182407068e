"""Fixtures of the API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

Headers = dict[str, str]


@pytest.fixture
def reviewer(client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The body of an engagement of an action with no limit (``review_posted``), less its ref."""
    action = {"key": "review_posted", "name": "A review", "points": 5}
    assert client.post("/api/v1/admin/engagement-actions", json=action, headers=admin).status_code == 201
    return {"member_id": make_member()["id"], "action": "review_posted", "occurred_at": "2026-11-22T09:00:00Z"}
