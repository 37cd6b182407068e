"""The hot paths' statement budgets: the SQL a request sends before its COMMIT, with the process's
copies of the configuration and of the API clients warm (as in a worker that has served a request).

The budgets are the same on both databases. A purchase that crosses nothing sends 5 statements on
PostgreSQL (the purchase and its lines in one data-modifying CTE) and 6 on SQLite, which has no such
CTE; an engagement that earns points 5 on both, a flush's outbox rows going in one INSERT whose ids
nobody reads back (:mod:`loyalty.outbox`); the status document reads qualifying points from the
monthly read model, so its cost does not grow with the member's history, and the catalog from the
process's copy (the stock aside).
A client disabled through another worker is refused within ``LOYALTY_CONFIG_CHECK_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from app.auth.models import ApiClient
from loyalty.db import session_scope
from loyalty.members.models import Member
from loyalty.program import cache
from loyalty.tiers.models import Tier
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, ON_POSTGRES, Headers
from tests.statements import Statements, counting

@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM  # its engagement actions


#: Seconds a worker keeps its copies in the tests of the check time.
KEPT_S = 0.5


def seen_within_the_check_time(sees_the_change: Callable[[], bool]) -> None:
    """Every request sent once the check time has passed since a change sees it. Timed from when each
    request is sent, not answered, so that a busy machine's slow answers do not count."""
    changed = time.monotonic()
    while True:
        sent = time.monotonic()
        if sees_the_change():
            return
        assert sent - changed < KEPT_S + 0.1, f"unchanged in a request sent {sent - changed:.2f} s after the change"
        time.sleep(0.05)


def keep_copies(app: Flask, seconds: float) -> Iterator[None]:
    app.config["LOYALTY_CONFIG_CHECK_SECONDS"] = seconds
    cache.configure(max_age=seconds)
    yield
    app.config["LOYALTY_CONFIG_CHECK_SECONDS"] = 0
    cache.configure(max_age=0)


@pytest.fixture
def warm(app: Flask) -> Iterator[None]:
    """Workers keep their copies of the configuration and the clients for a minute."""
    yield from keep_copies(app, 60)


@pytest.fixture
def briefly(app: Flask) -> Iterator[None]:
    """Workers keep their copies for :data:`KEPT_S` seconds."""
    yield from keep_copies(app, KEPT_S)


def sent(app: Flask, request: Any) -> tuple[Any, Statements]:
    """The answer to ``request()`` and the statements it sent, after the same request warmed the copies."""
    with counting(app.extensions["loyalty.engine"]) as statements:
        response = request()
    return response, statements


@pytest.fixture
def member(make_member: Any, make_purchase: Any) -> dict[str, Any]:
    member = make_member()
    make_purchase(member_id=member["id"])  # the copies warm, the member has bought before
    return member


def test_a_purchase_that_crosses_nothing(app, warm, client, till: Headers, member):
    body = purchase_body(member_id=member["id"], total="10.00", lines=[{"sku": "A", "category": "food", "quantity": 1, "unit_price": "10.00"}])
    response, statements = sent(app, lambda: client.post("/api/v1/purchases", json=body, headers=till))
    assert response.status_code == 201, response.json
    assert len(statements) <= 6, str(statements)


def test_a_return(app, warm, client, till: Headers, member, make_purchase):
    purchase = make_purchase(member_id=member["id"])
    body = {"return_no": "RET-1", "amount": "5.00"}
    response, statements = sent(app, lambda: client.post(f"/api/v1/purchases/{purchase['id']}/returns", json=body, headers=till))
    assert response.status_code == 201, response.json
    assert len(statements) <= 8, str(statements)


def test_an_engagement(app, warm, client, service: Headers, member):
    client.get("/api/v1/rewards", headers=service)
    body = {"member_id": member["id"], "action": "store_visit", "ref": "visit-1", "occurred_at": "2026-11-22T09:00:00Z"}
    response, statements = sent(app, lambda: client.post("/api/v1/engagements", json=body, headers=service))
    assert response.status_code == 201, response.json
    assert len(statements) <= 5, str(statements)


def test_the_member_read_is_one_statement(app, warm, client, till: Headers, member):
    headers = till
    client.get(f"/api/v1/members/{member['id']}", headers=headers)
    response, statements = sent(app, lambda: client.get(f"/api/v1/members/{member['id']}", headers=headers))
    assert response.status_code == 200
    assert len(statements) == 1, str(statements)


@pytest.mark.parametrize("caller", ["service", "admin"])
def test_the_member_read_with_the_engagement_score_is_one_statement(app, warm, client, request, caller: str, member):
    headers = request.getfixturevalue(caller)
    client.get(f"/api/v1/members/{member['id']}", headers=headers)
    response, statements = sent(app, lambda: client.get(f"/api/v1/members/{member['id']}", headers=headers))
    assert response.status_code == 200
    assert response.json["engagement"] is not None
    assert len(statements) == 1, str(statements)


def test_the_status_document(app, warm, client, service: Headers, member):
    client.get(f"/api/v1/members/{member['id']}/status", headers=service)
    response, statements = sent(app, lambda: client.get(f"/api/v1/members/{member['id']}/status", headers=service))
    assert response.status_code == 200
    assert len(statements) == 1, str(statements)


def test_the_status_document_offering_a_reward_of_limited_stock(app, warm, client, admin: Headers, service: Headers, member):
    """The catalog is the process's copy; the stock of the rewards offered is read on each call."""
    assert client.patch("/api/v1/admin/rewards/FREESHIP", json={"stock": 5}, headers=admin).status_code == 200
    client.get(f"/api/v1/members/{member['id']}/status", headers=service)
    response, statements = sent(app, lambda: client.get(f"/api/v1/members/{member['id']}/status", headers=service))
    assert [reward["code"] for reward in response.json["rewards_available"]] == ["FREESHIP"]
    assert len(statements) == 2, str(statements)


def test_a_client_disabled_by_another_worker_is_refused_within_the_check_time(app, briefly, client, service: Headers, sessions):
    assert client.get("/api/v1/rewards", headers=service).status_code == 200
    with session_scope(sessions) as session:  # what another worker's `disable-client` writes
        session.execute(update(ApiClient).where(ApiClient.role == "service").values(is_active=False))
    seen_within_the_check_time(lambda: client.get("/api/v1/rewards", headers=service).status_code == 401)
    assert client.get("/api/v1/rewards", headers=service).status_code == 401


def test_a_change_of_settings_through_another_worker_applies_within_the_check_time(app, briefly, client, admin: Headers, sessions):
    assert client.get("/api/v1/admin/program", headers=admin).json["minimum_amount"] != "7.00"
    with session_scope(sessions) as session:  # another worker's change (its `touch` drops only its own copy)
        settings = cache.settings_row(session)
        assert settings is not None
        settings.minimum_amount = 7  # type: ignore[assignment]
        settings.config_token = cache.new_token()
    seen_within_the_check_time(lambda: client.get("/api/v1/admin/program", headers=admin).json["minimum_amount"] == "7.00")


def test_a_member_in_a_tier_this_workers_copy_does_not_hold_yet_is_credited_at_that_tier(app, warm, client, till: Headers, member):
    """A tier added through another worker (the copy of the ladder not yet refreshed): the member
    already moved into it earns that tier's points, read from their row, not nothing."""
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        session.add(Tier(code="LATE", name="Late", rank=99, threshold=10**9, multiplier=Decimal("2"), benefits=[]))
        session.flush()
        session.execute(update(Member).where(Member.id == member["id"]).values(tier_code="LATE"))
    body = purchase_body(member_id=member["id"], total="10.00", lines=[{"sku": "A", "category": "food", "quantity": 1, "unit_price": "10.00"}])
    response = client.post("/api/v1/purchases", json=body, headers=till)
    assert response.status_code == 201, response.json
    assert response.json["points_awarded"] == 20



def _crossing(app: Flask, client: Any, till: Headers, admin: Headers, member: dict[str, Any], *, adjust: int, spend: str) -> tuple[Any, Statements]:
    """The member (55 points, all qualifying) adjusted by ``adjust`` points, then a food purchase of
    ``spend`` (one point per euro) sent with its statements counted."""
    client.get(f"/api/v1/members/{member['id']}/status", headers=admin)  # the copy of the catalog warm
    adjusted = client.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": adjust, "reason": "goodwill"}, headers=admin)
    assert adjusted.status_code == 201, adjusted.json
    body = purchase_body(member_id=member["id"], total=spend, lines=[{"sku": "A", "category": "food", "quantity": 1, "unit_price": spend}])
    response, statements = sent(app, lambda: client.post("/api/v1/purchases", json=body, headers=till))
    assert response.status_code == 201, response.json
    return response, statements


def test_a_purchase_crossing_the_voucher_threshold(app, warm, client, till: Headers, admin: Headers, member):
    """95 points, 20 more: the 100-point voucher is issued, its points debited (the member's lots
    consumed in one statement), without a savepoint (the reward's stock is unlimited)."""
    response, statements = _crossing(app, client, till, admin, member, adjust=40, spend="20.00")
    assert response.json["points_balance"] == 15
    assert [voucher["reward_code"] for voucher in client.get(f"/api/v1/members/{member['id']}/vouchers", headers=admin).json] == ["VOUCHER10"]
    assert len(statements) <= (12 if ON_POSTGRES else 15), str(statements)


def test_a_purchase_reaching_the_next_tier(app, warm, client, till: Headers, admin: Headers, member):
    """55 qualifying points (5 to spend), 50 more: the member moves up to VIP, whose card is queued."""
    response, statements = _crossing(app, client, till, admin, member, adjust=-50, spend="50.00")
    assert response.json["points_balance"] == 55
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["tier_code"] == "vip"
    assert len(statements) <= (11 if ON_POSTGRES else 13), str(statements)
