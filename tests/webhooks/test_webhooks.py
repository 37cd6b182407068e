"""Outbound webhooks, end to end: the admin API subscribes a real local HTTP server, changes commit,
``loyalty run-due`` passes send what is due, and the receiver checks every signature the documented way."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.audit import AuditEntry
from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from loyalty.enrolment.operations import NewMember, enroll_member
from loyalty.outbox import OutboxEvent
from notifications.webhooks.delivery import Claimed, WebhookSender, WebhookSettings, retry_delay
from notifications.webhooks.models import WebhookDelivery
from tests.servers import make_certificate
from tests.webhooks.receiver import Receiver, verify

Headers = dict[str, str]
ADMIN_WEBHOOKS = "/api/v1/admin/webhooks"


def use_settings(app: Flask, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
    """Send webhooks with these settings (as LOYALTY_WEBHOOK_* would configure them)."""
    base = {"allow_private": True, "timeout": 0.5, **settings}
    runtime = app.extensions["loyalty.runtime"]
    monkeypatch.setitem(
        app.extensions, "loyalty.runtime", dataclasses.replace(runtime, webhooks=WebhookSender(WebhookSettings(**base)))
    )


@pytest.fixture
def receiver(clock: FrozenClock) -> Iterator[Receiver]:
    with Receiver(lambda: clock.now().timestamp()) as server:
        yield server


@pytest.fixture
def run_due(app: Flask) -> Callable[[], str]:
    """One pass of ``flask --app wsgi loyalty run-due``."""

    def run() -> str:
        result = app.test_cli_runner().invoke(args=["loyalty", "run-due"])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def counted(outcome: str) -> float:
    """``loyalty_webhook_deliveries_total{outcome=…}`` as /metrics reports it."""
    return REGISTRY.get_sample_value("loyalty_webhook_deliveries_total", {"outcome": outcome}) or 0.0


def subscribe(client: FlaskClient, admin: Headers, url: str, *event_types: str) -> dict[str, Any]:
    response = client.post(ADMIN_WEBHOOKS, json={"url": url, "event_types": list(event_types or ["*"])}, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def deliveries(sessions: sessionmaker[Session], **where: Any) -> list[WebhookDelivery]:
    with session_scope(sessions) as session:
        query = select(WebhookDelivery).filter_by(**where).order_by(WebhookDelivery.id)
        return list(session.scalars(query))


def run_until_settled(run_due: Callable[[], str], clock: FrozenClock, sessions: sessionmaker[Session], rounds: int = 30) -> int:
    """Passes, the clock moving past every backoff, until no delivery is pending; returns the passes."""
    for passes in range(1, rounds + 1):
        run_due()
        if not any(d.status in ("pending", "sending") for d in deliveries(sessions)):
            return passes
        clock.advance(timedelta(hours=7))
    raise AssertionError("deliveries still pending")


def test_every_event_arrives_signed_in_order_per_member_despite_failures_and_a_time_out(
    app: Flask, client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]], receiver: Receiver, run_due: Callable[[], str],
    clock: FrozenClock, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    use_settings(app, monkeypatch)
    created = subscribe(client, admin, receiver.url)
    secret = created["secret"]
    assert secret.startswith("whsec_")
    receiver.fail_next(3, 500)
    receiver.hang_next(1.5)
    receiver.fail_next(2, 503)
    members = [make_member()["id"] for _ in range(2)]
    for member_id in members:
        make_purchase(member_id=member_id)
        make_purchase(member_id=member_id, total="12.00")

    passes = run_until_settled(run_due, clock, sessions)

    with session_scope(sessions) as session:
        events = {row.id: row for row in session.scalars(select(OutboxEvent))}
    assert passes > 1  # the failures were retried in later passes
    assert {d.status for d in deliveries(sessions)} == {"delivered"}
    assert {d.event_id for d in deliveries(sessions)} == set(events)
    # Every event arrived, none lost; every request carried a valid signature.
    for request in receiver.requests:
        assert verify(secret, request.body, request.headers["loyalty-signature"], now=request.received_at)
        document = request.json()
        assert document["id"] == request.event_id
        assert document["type"] == request.headers["loyalty-event-type"] == events[request.event_id].event_type
        assert set(document) == {"id", "type", "occurred_at", "data"}
    assert {request.event_id for request in receiver.accepted} == set(events)
    # The failed attempts were retried with the same event id and the same body.
    failed = [request for request in receiver.requests if request.status is None or request.status >= 500]
    assert len(failed) == 6
    for request in failed:
        assert [r.body for r in receiver.accepted if r.event_id == request.event_id] == [request.body]
    assert [request.status for request in failed].count(None) == 1  # the one the sender stopped waiting for
    # Each member's events arrived in the order they happened.
    for member_id in members:
        arrived = [r.event_id for r in receiver.accepted if r.json()["data"].get("member_id") == member_id]
        assert arrived == sorted(arrived) and len(arrived) >= 4


def test_a_rolled_back_change_sends_nothing(
    app: Flask, client: FlaskClient, admin: Headers, receiver: Receiver, run_due: Callable[[], str],
    clock: FrozenClock, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    use_settings(app, monkeypatch)
    subscribe(client, admin, receiver.url, "MemberEnrolled")
    with pytest.raises(RuntimeError), session_scope(sessions) as session:
        enroll_member(session, NewMember(email="gone@example.com", first_name="A", last_name="B"), now=clock.now(), source="api")
        session.flush()
        raise RuntimeError("the request failed after the enrolment")
    run_due()
    assert deliveries(sessions) == [] and receiver.requests == []
    with session_scope(sessions) as session:
        enroll_member(session, NewMember(email="kept@example.com", first_name="A", last_name="B"), now=clock.now(), source="api")
    run_due()
    assert [r.json()["type"] for r in receiver.accepted] == ["MemberEnrolled"]
    assert [d.status for d in deliveries(sessions)] == ["delivered"]


def test_a_member_s_later_delivery_waits_while_an_earlier_one_is_retried(
    app: Flask, client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]], receiver: Receiver,
    run_due: Callable[[], str], clock: FrozenClock, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    use_settings(app, monkeypatch)
    subscribe(client, admin, receiver.url, "MemberEnrolled", "MemberUpdated")
    receiver.fail_next(1)
    member = make_member()
    assert client.patch(f"/api/v1/members/{member['id']}", json={"first_name": "Paula"}, headers=admin).status_code == 200
    run_due()
    first, second = deliveries(sessions)
    assert (first.status, first.attempts, second.status, second.attempts) == ("pending", 1, "pending", 0)
    assert [r.json()["type"] for r in receiver.requests] == ["MemberEnrolled"]
    clock.advance(timedelta(minutes=2))
    run_due()
    assert [r.json()["type"] for r in receiver.accepted] == ["MemberEnrolled", "MemberUpdated"]


def test_private_addresses_are_refused_without_the_setting(
    app: Flask, client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]], receiver: Receiver,
    run_due: Callable[[], str], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    use_settings(app, monkeypatch, allow_private=False)
    for url, reason in (
        ("https://127.0.0.1/hooks", "private, loopback"),
        ("https://10.1.2.3/hooks", "private, loopback"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback"),
        ("https://[::1]/hooks", "private, loopback"),
        ("https://localhost/hooks", "private, loopback"),
        ("http://93.184.216.34/hooks", "https"),
        ("ftp://93.184.216.34/hooks", "https"),
        ("https://user:pw@93.184.216.34/hooks", "credentials"),
        ("https://no-such-host.invalid/hooks", "does not resolve"),
    ):
        response = client.post(ADMIN_WEBHOOKS, json={"url": url, "event_types": ["*"]}, headers=admin)
        assert response.status_code == 422, url
        assert response.content_type == "application/problem+json"
        assert response.json["invalid_params"][0]["name"] == "url"
        assert reason in response.json["detail"], (url, response.json)
    # Saved while private addresses were allowed, then the setting is off: the delivery refuses to connect.
    use_settings(app, monkeypatch, allow_private=True)
    subscribe(client, admin, f"http://localhost:{receiver.port}/hooks", "MemberEnrolled")
    use_settings(app, monkeypatch, allow_private=False)
    make_member()
    run_due()
    (delivery,) = deliveries(sessions)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error is not None and delivery.last_error.startswith("address refused: localhost resolves to")
    assert receiver.requests == []


def test_unknown_event_types_are_named_in_the_problem(client: FlaskClient, admin: Headers) -> None:
    response = client.post(
        ADMIN_WEBHOOKS, json={"url": "https://crm.example.com/h", "event_types": ["PointsEarned", "PointsStolen"]}, headers=admin
    )
    assert response.status_code == 422
    assert [param["name"] for param in response.json["invalid_params"]] == ["event_types.1"]


def test_a_failing_subscription_is_paused_then_resumed_and_redriven(
    app: Flask, client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]], receiver: Receiver,
    run_due: Callable[[], str], clock: FrozenClock, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    use_settings(app, monkeypatch, max_attempts=3, pause_after_dead=2)
    subscription = subscribe(client, admin, receiver.url, "MemberEnrolled")
    base = f"{ADMIN_WEBHOOKS}/{subscription['id']}"
    receiver.always(500)
    counted_before = {outcome: counted(outcome) for outcome in ("failed", "dead", "delivered", "redriven")}
    make_member()
    make_member()
    run_until_settled(run_due, clock, sessions)
    assert {outcome: counted(outcome) - before for outcome, before in counted_before.items()} == {
        "failed": 4, "dead": 2, "delivered": 0, "redriven": 0
    }
    dead = deliveries(sessions)
    assert [(d.status, d.attempts, d.last_status_code) for d in dead] == [("dead", 3, 500)] * 2
    paused = client.get(base, headers=admin).json
    assert paused["is_active"] is False and "2 deliveries in a row" in paused["paused_reason"]
    assert [w["id"] for w in client.get(ADMIN_WEBHOOKS, query_string={"status": "paused"}, headers=admin).json] == [
        subscription["id"]
    ]
    with session_scope(sessions) as session:
        notice = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "webhook_subscriptions", AuditEntry.actor == "scheduler")
        ).one()
        assert notice.after is not None and notice.after["is_active"] is False
    # While paused, no delivery is queued for new events, and nothing is sent.
    make_member()
    requests_before = len(receiver.requests)
    run_due()
    assert len(deliveries(sessions)) == 2 and len(receiver.requests) == requests_before
    # The log lists the dead letters; one is redriven, then the rest.
    log = client.get(f"{base}/deliveries", query_string={"status": "dead", "limit": 1}, headers=admin).json
    assert len(log["items"]) == 1 and log["next_before"] is not None
    receiver.always(None)
    assert client.patch(base, json={"is_active": True}, headers=admin).json["paused_reason"] is None
    one = log["items"][0]["id"]
    redriven = client.post(f"{base}/deliveries/{one}/redrive", headers=admin)
    assert redriven.status_code == 200 and redriven.json["status"] == "pending" and redriven.json["attempts"] == 0
    run_due()
    assert {d.id: d.status for d in deliveries(sessions)}[one] == "delivered"
    again = client.post(f"{base}/deliveries/{one}/redrive", headers=admin)
    assert again.status_code == 409 and again.json["invalid_params"][0]["name"] == "delivery_id"
    assert client.post(f"{base}/redrive", headers=admin).json == {"redriven": 1}
    run_due()
    assert {d.status for d in deliveries(sessions)} == {"delivered"}
    assert len({r.event_id for r in receiver.accepted}) == 2


def test_the_secret_is_shown_once_and_rotation_signs_with_both_for_a_day(
    app: Flask, client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]], receiver: Receiver,
    run_due: Callable[[], str], clock: FrozenClock, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    use_settings(app, monkeypatch)
    created = subscribe(client, admin, receiver.url, "MemberEnrolled")
    base = f"{ADMIN_WEBHOOKS}/{created['id']}"
    assert "secret" not in client.get(base, headers=admin).json
    assert all("secret" not in w for w in client.get(ADMIN_WEBHOOKS, headers=admin).json)
    rotated = client.post(f"{base}/rotate-secret", headers=admin)
    assert rotated.status_code == 200 and rotated.json["secret"] != created["secret"]
    make_member()
    run_due()
    (first,) = receiver.accepted
    signature = first.headers["loyalty-signature"]
    assert signature.count("v1=") == 2
    now = clock.now().timestamp()
    assert verify(rotated.json["secret"], first.body, signature, now=now)
    assert verify(created["secret"], first.body, signature, now=now)
    assert not verify("whsec_wrong", first.body, signature, now=now)
    assert not verify(rotated.json["secret"], first.body, signature, now=now + 301)  # a replay
    clock.advance(timedelta(hours=25))
    make_member()
    run_due()
    later = receiver.accepted[-1].headers["loyalty-signature"]
    assert later.count("v1=") == 1
    assert not verify(created["secret"], receiver.accepted[-1].body, later, now=clock.now().timestamp())
    with session_scope(sessions) as session:
        changes = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "webhook_subscriptions").order_by(AuditEntry.id)
        ).all()
    assert [entry.action for entry in changes] == ["create", "update"]
    assert changes[1].after is not None and changes[1].after["secret"] == "(secret)"


def test_admin_api_manages_subscriptions(client: FlaskClient, admin: Headers, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(app, monkeypatch)
    created = subscribe(client, admin, "https://127.0.0.1:9/a", "PointsEarned", "TierUpgraded", "PointsEarned")
    base = f"{ADMIN_WEBHOOKS}/{created['id']}"
    assert created["event_types"] == ["PointsEarned", "TierUpgraded"] and created["is_active"] is True
    changed = client.patch(base, json={"event_types": ["*", "PointsEarned"], "description": "CRM"}, headers=admin)
    assert changed.status_code == 200 and changed.json["event_types"] == ["*"]
    assert client.patch(base, json={"is_active": False}, headers=admin).json["paused_at"] is not None
    assert client.get(f"{base}/deliveries", headers=admin).json == {"items": [], "next_before": None}
    assert client.delete(base, headers=admin).status_code == 204
    missing = client.get(base, headers=admin)
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"


@pytest.mark.parametrize("role", ["service", "till"])
def test_only_admins_manage_webhooks(client: FlaskClient, client_headers: Callable[..., Headers], role: str) -> None:
    headers = client_headers(role, store="S1") if role == "till" else client_headers(role)
    body = {"url": "https://crm.example.com/h", "event_types": ["*"]}
    assert client.post(ADMIN_WEBHOOKS, json=body, headers=headers).status_code == 403
    assert client.get(ADMIN_WEBHOOKS, headers=headers).status_code == 403
    assert client.get(ADMIN_WEBHOOKS).status_code == 401


def test_retries_back_off_exponentially_with_jitter() -> None:
    settings = WebhookSettings(retry_base=timedelta(minutes=1), retry_cap=timedelta(hours=6))
    assert [retry_delay(settings, n, jitter=0) for n in (1, 2, 3, 10, 20)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(hours=6), timedelta(hours=6),
    ]
    assert retry_delay(settings, 3, jitter=0.999) > timedelta(minutes=2)
    assert retry_delay(settings, 3, jitter=1) == timedelta(minutes=2)


def test_an_https_receiver_s_certificate_is_verified(tmp_path: Path) -> None:
    """The guarded connection still speaks TLS and checks the certificate: a self-signed one is refused."""
    certificate, key = make_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    with Receiver() as receiver:
        receiver._http.socket = context.wrap_socket(receiver._http.socket, server_side=True)
        item = Claimed(1, 1, f"https://127.0.0.1:{receiver.port}/hooks", 1, "MemberEnrolled", b"{}", ("whsec_x",))
        outcome = WebhookSender(WebhookSettings(allow_private=True, timeout=2)).send(item, timestamp=0)
    assert outcome.status_code is None and outcome.error is not None and "CERTIFICATE_VERIFY_FAILED" in outcome.error
