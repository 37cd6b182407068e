"""Delivery through real local providers: a provider that fails for a while gets every message
once, after retries with backoff; refusals end as dead letters that can be re-driven."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from notifications.messages.delivery import redrive
from tests.scenarios.conftest import SMS_ON_SHARE
from tests.servers import ProviderServer, SmtpServer

Headers = dict[str, str]


@pytest.fixture(autouse=True)
def sms_on_share(pause: Callable[..., None], add_scenario: Callable[..., None]) -> None:
    pause()
    add_scenario("sms_on_share", SMS_ON_SHARE)


@pytest.fixture
def share(client: FlaskClient, service: Headers, clock: FrozenClock) -> Callable[[int], None]:
    def post(member_id: int) -> None:
        body = {"member_id": member_id, "action": "share", "ref": "post-1", "occurred_at": clock.now().isoformat()}
        assert client.post("/api/v1/engagements", json=body, headers=service).status_code == 201

    return post


def test_a_provider_failing_for_a_while_gets_every_message_once_after_retries(
    make_member: Callable[..., dict[str, Any]],
    share: Callable[[int], None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    provider_server: ProviderServer,
    messages: Callable[..., list[Any]],
) -> None:
    members = [make_member(phone=f"+3361234567{n}") for n in range(5)]
    for member in members:
        share(member["id"])
    provider_server.fail_next(12)

    run_due()
    assert provider_server.messages == []
    for _ in range(6):  # backoff: 1, 2, 4, 8… minutes
        clock.advance(timedelta(minutes=20))
        run_due()

    delivered = Counter(request.json()["to"] for request in provider_server.messages)
    assert delivered == Counter(member["phone"] for member in members)
    rows = [m for member in members for m in messages(member["id"], channel="sms")]
    assert {m.status for m in rows} == {"sent"}
    assert sum(m.attempts for m in rows) == 5 + 12
    assert len({m.provider_ref for m in rows}) == 5


def test_a_message_refused_for_good_is_a_dead_letter_until_re_driven(
    make_member: Callable[..., dict[str, Any]],
    share: Callable[[int], None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    provider_server: ProviderServer,
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    member = make_member(phone="+33699999999")
    share(member["id"])
    provider_server.fail_next(1, status=400)
    run_due()
    [sms] = messages(member["id"], channel="sms")
    assert sms.status == "dead" and sms.attempts == 1
    [copy] = messages(member["id"], channel="in_app")
    assert copy.status == "suppressed"

    with session_scope(sessions) as session:
        redrive(session, sms.id, now=clock.now())
    run_due()
    [sms] = messages(member["id"], channel="sms")
    assert sms.status == "sent"
    assert [m.status for m in messages(member["id"], channel="in_app")] == ["delivered"]
    assert len(provider_server.messages) == 1


def test_after_the_maximum_of_attempts_a_failing_message_is_dead(
    make_member: Callable[..., dict[str, Any]],
    share: Callable[[int], None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    provider_server: ProviderServer,
    messages: Callable[..., list[Any]],
) -> None:
    member = make_member(phone="+33688888888")
    share(member["id"])
    provider_server.fail_next(50)
    for _ in range(10):
        run_due()
        clock.advance(timedelta(hours=1))

    [sms] = messages(member["id"], channel="sms")
    assert (sms.status, sms.attempts) == ("dead", 6)
    assert "503" in sms.reason


def test_emails_refused_for_a_while_by_the_smtp_server_are_retried(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    share: Callable[[int], None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    smtp_server: SmtpServer,
    messages: Callable[..., list[Any]],
) -> None:
    add_scenario("email_on_share", {**SMS_ON_SHARE, "steps": [{"id": "mail", "send": "welcome", "channels": ["email"]}]})
    member = make_member()
    smtp_server.refuse_next(2, "451 4.3.0 Try again later")
    share(member["id"])
    run_due()
    clock.advance(timedelta(minutes=1))
    run_due()
    clock.advance(timedelta(minutes=2))
    run_due()

    [email] = messages(member["id"], channel="email")
    assert (email.status, email.attempts) == ("sent", 3)
    assert len(smtp_server.messages) == 1


def test_message_outcomes_and_dead_letters_are_in_the_metrics(
    make_member: Callable[..., dict[str, Any]],
    share: Callable[[int], None],
    run_due: Callable[[], Any],
    provider_server: ProviderServer,
    client: FlaskClient,
) -> None:
    def sms(outcome: str) -> float:
        return REGISTRY.get_sample_value("loyalty_messages_total", {"channel": "sms", "outcome": outcome}) or 0.0

    before = {outcome: sms(outcome) for outcome in ("queued", "sent", "dead")}
    for phone in ("+33677777771", "+33677777772"):
        share(make_member(phone=phone)["id"])
    provider_server.fail_next(1, status=400)
    run_due()
    assert {outcome: sms(outcome) - before[outcome] for outcome in before} == {"queued": 2, "sent": 1, "dead": 1}
    scraped = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    assert "\nloyalty_dead_letters 1.0\n" in scraped
