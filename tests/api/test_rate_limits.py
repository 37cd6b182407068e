"""Rate limits on guessing passwords and client secrets (app/ratelimits.py), in-process counters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sqlalchemy import select

from app.auth.clients import create_client
from loyalty.audit import AuditEntry
from loyalty.db import session_scope

LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"


def wrong_login(client: FlaskClient, email: str, address: str = "10.0.0.1") -> Any:
    return client.post(LOGIN, json={"email": email, "password": "wrong-horse"}, environ_base={"REMOTE_ADDR": address})


def test_the_sixth_wrong_password_within_a_minute_is_a_429_with_retry_after(client, make_member):
    member = make_member()
    assert [wrong_login(client, member["email"]).status_code for _ in range(5)] == [401] * 5
    refused = wrong_login(client, member["email"])
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json" and refused.json["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # The right password is refused too while the account is over its limit.
    right = client.post(LOGIN, json={"email": member["email"], "password": "correct-horse"}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert right.status_code == 429


def test_wrong_passwords_for_many_accounts_from_one_address_are_limited(client, make_member):
    members = [make_member() for _ in range(6)]
    statuses = [wrong_login(client, member["email"], address="10.0.0.2").status_code for member in members]
    assert statuses == [401] * 5 + [429]
    # Another address may still try the sixth account.
    assert wrong_login(client, members[5]["email"], address="10.0.0.3").status_code == 401


def refusals_audited(app: Flask) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """The audit entries of refused attempts: (action, actor, entity, entity key, after)."""
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("refuse-attempts", "lock-out"))).order_by(AuditEntry.id)
        )
        return [(entry.action, entry.actor, entry.entity, entry.entity_key, entry.after or {}) for entry in entries]


def test_a_refused_account_is_audited_once_per_window_with_the_address(app: Flask, client, make_member, clock):
    member = make_member()
    for _ in range(5):
        wrong_login(client, member["email"], address="10.0.2.1")
    assert refusals_audited(app) == []
    assert [wrong_login(client, member["email"], address="10.0.2.1").status_code for _ in range(2)] == [429, 429]
    [(action, actor, entity, key, after)] = refusals_audited(app)
    assert (action, actor, entity, key) == ("refuse-attempts", "address:10.0.2.1", "auth.login", member["email"].lower())
    assert after["account"] == member["email"].lower() and after["address"] == "10.0.2.1"
    assert after["counted_per"] == "account" and after["limit"] == "5 per 1 minute" and after["until"] > clock.now().isoformat()[:10]


def test_a_refused_address_is_audited_with_the_account_it_tried(app: Flask, client, make_member):
    members = [make_member() for _ in range(6)]
    for member in members:
        wrong_login(client, member["email"], address="10.0.2.2")
    [(action, actor, _entity, key, after)] = refusals_audited(app)
    assert (action, actor, key, after["counted_per"]) == ("refuse-attempts", "address:10.0.2.2", members[5]["email"].lower(), "address")


def test_a_lock_out_is_audited(app: Flask, client, make_member):
    member = make_member()
    for _ in range(9):
        wrong_login(client, member["email"], address="10.0.2.3")
    audited = refusals_audited(app)
    # The refusals of the minute, then the account's lock-out for the hour.
    assert [entry[0] for entry in audited] == ["refuse-attempts", "lock-out"]
    _action, actor, _entity, key, after = audited[-1]
    assert (actor, key, after["counted_per"], after["limit"]) == ("address:10.0.2.3", member["email"].lower(), "account", "3 per 1 hour")


def test_an_address_that_keeps_trying_is_locked_out_for_longer(client, make_member):
    members = [make_member() for _ in range(9)]
    statuses = [wrong_login(client, member["email"], address="10.0.2.4").status_code for member in members]
    assert statuses == [401] * 5 + [429] * 4
    # Each account tried once, but the address was refused three times within the hour.
    assert int(wrong_login(client, members[0]["email"], address="10.0.2.4").headers["Retry-After"]) > 60


def test_a_refused_client_id_is_audited(app: Flask, client, clock):
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        credentials = create_client(session, name="audited", role="service", store_code=None, now=clock.now())
    body = {"client_id": credentials.client_id, "client_secret": "not-the-secret"}
    for n in range(7):
        client.post(TOKEN, json=body, environ_base={"REMOTE_ADDR": f"10.0.3.{n}"})
    [(action, actor, entity, key, after)] = refusals_audited(app)
    assert (action, actor, entity, key) == ("refuse-attempts", "address:10.0.3.5", "auth.client_token", credentials.client_id.lower())
    assert after["counted_per"] == "account"


def test_successful_logins_are_not_counted(client, make_member, login):
    member = make_member()
    for _ in range(8):
        login(member)


def test_an_account_that_keeps_trying_is_locked_out_for_longer(client, make_member, caplog):
    member = make_member()
    for _ in range(5):
        wrong_login(client, member["email"])
    refusals = [wrong_login(client, member["email"]) for _ in range(4)]
    assert {response.status_code for response in refusals} == {429}
    # Three refusals within the hour lock the account out until the hour is over.
    assert int(refusals[-1].headers["Retry-After"]) > 60
    assert "locked out" in caplog.text and "attempts refused" in caplog.text


def test_wrong_client_secrets_are_limited_per_client_id(app: Flask, client, clock):
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        credentials = create_client(session, name="guessed", role="service", store_code=None, now=clock.now())
    body = {"client_id": credentials.client_id, "client_secret": "not-the-secret"}
    statuses = [client.post(TOKEN, json=body, environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]


@pytest.fixture
def quotas(app: Flask) -> Callable[[dict[str, str]], None]:
    saved = app.config["LOYALTY_RATELIMIT_QUOTAS"]

    def set_quotas(value: dict[str, str]) -> None:
        app.config["LOYALTY_RATELIMIT_QUOTAS"] = value

    yield set_quotas
    app.config["LOYALTY_RATELIMIT_QUOTAS"] = saved


def test_a_role_quota_counts_each_client_apart(client, till, client_headers, quotas):
    quotas({"till": "3/minute"})
    other_till = client_headers("till", store="S1")
    assert [client.get("/api/v1/rewards", headers=till).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/api/v1/rewards", headers=other_till).status_code == 200


def test_a_client_quota_overrides_its_role(app: Flask, client, clock, quotas):
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        credentials = create_client(session, name="busy", role="service", store_code=None, now=clock.now())
    token = client.post(TOKEN, json={"client_id": credentials.client_id, "client_secret": credentials.client_secret}).json
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    quotas({"service": "100/minute", credentials.client_id: "2/minute"})
    assert [client.get("/api/v1/rewards", headers=headers).status_code for _ in range(3)] == [200, 200, 429]
