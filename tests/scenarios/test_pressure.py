"""Marketing pressure in the engine: the global cap, quiet hours, blackouts, consent withdrawn
mid-journey, open complaints, and the holdout group that receives nothing but is counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from notifications.journeys.entry import assign
from notifications.journeys.models import Journey
from notifications.pressure.operations import add_blackout, open_complaint
from notifications.scenarios.operations import parse
from tests.conftest import NOW
from tests.scenarios.conftest import purchase_at
from tests.servers import SmtpServer

Headers = dict[str, str]

#: Four marketing emails, a day apart, from one engagement.
FOUR_EMAILS = {
    "trigger": {"event": "EngagementRecorded", "where": {"action": "review_posted"}},
    "steps": [
        {"id": "first", "send": "welcome", "channels": ["email"]},
        {"id": "wait_1", "wait": "1d"},
        {"id": "second", "send": "welcome", "channels": ["email"]},
        {"id": "wait_2", "wait": "1d"},
        {"id": "third", "send": "welcome", "channels": ["email"]},
        {"id": "wait_3", "wait": "1d"},
        {"id": "fourth", "send": "welcome", "channels": ["email"]},
    ],
}


@pytest.fixture(autouse=True)
def quiet_program(pause: Callable[..., None]) -> None:
    pause()


@pytest.fixture
def engage(client: FlaskClient, service: Headers, clock: FrozenClock) -> Callable[..., None]:
    def post(member_id: int, action: str = "review_posted") -> None:
        body = {"member_id": member_id, "action": action, "ref": f"{action}-{clock.now().isoformat()}", "occurred_at": clock.now().isoformat()}
        response = client.post("/api/v1/engagements", json=body, headers=service)
        assert response.status_code == 201, response.json

    return post


def test_the_fourth_marketing_message_within_seven_days_is_suppressed_and_says_why(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    messages: Callable[..., list[Any]],
    smtp_server: SmtpServer,
) -> None:
    add_scenario("four_emails", FOUR_EMAILS)
    member = make_member()
    engage(member["id"])
    for _ in range(4):
        run_due()
        clock.advance(timedelta(days=1))

    emails = messages(member["id"], channel="email")
    assert [(m.step, m.status, m.reason) for m in emails] == [
        ("first", "sent", None),
        ("second", "sent", None),
        ("third", "sent", None),
        ("fourth", "suppressed", "pressure_cap"),
    ]
    assert len(smtp_server.messages) == 3
    assert [m.status for m in messages(member["id"], channel="in_app")] == ["delivered"] * 3 + ["suppressed"]


def test_messages_due_at_the_same_instant_meet_the_cap_in_the_order_their_scenarios_were_created(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    messages: Callable[..., list[Any]],
) -> None:
    for key in ("delta", "alpha", "charlie", "bravo"):
        add_scenario(key, {**FOUR_EMAILS, "steps": [{"id": key, "send": "welcome", "channels": ["email"]}]})
    member = make_member()
    engage(member["id"])
    run_due()

    emails = messages(member["id"], channel="email")
    assert [(m.step, m.status, m.reason) for m in emails] == [
        ("delta", "sent", None),
        ("alpha", "sent", None),
        ("charlie", "sent", None),
        ("bravo", "suppressed", "pressure_cap"),
    ]


def test_quiet_hours_defer_a_message_to_the_morning_on_the_members_clock(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    messages: Callable[..., list[Any]],
) -> None:
    add_scenario("four_emails", FOUR_EMAILS)
    clock.set(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))  # 22:00 in New York, 04:00 in Paris
    new_yorker = make_member(timezone="America/New_York")
    engage(new_yorker["id"])
    run_due()

    [first] = messages(new_yorker["id"], channel="email")
    assert (first.status, first.reason) == ("queued", "quiet_hours")
    assert first.due_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 08:00 in New York

    clock.set(datetime(2026, 11, 23, 13, 0, tzinfo=UTC))
    run_due()
    [first] = messages(new_yorker["id"], channel="email", step="first")
    assert first.status == "sent"


def test_during_a_blackout_journeys_wait_and_queued_messages_are_deferred_to_its_end(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    add_scenario("four_emails", FOUR_EMAILS)
    member = make_member()
    engage(member["id"])
    run_due()
    sale_start, sale_end = NOW + timedelta(hours=12), NOW + timedelta(days=5)
    with session_scope(sessions) as session:
        add_blackout(session, name="Winter sale", starts_at=sale_start, ends_at=sale_end)

    clock.advance(timedelta(days=1))
    run_due()
    assert [m.step for m in messages(member["id"], channel="email")] == ["first"]
    with sessions() as session:
        journey = session.scalars(select(Journey)).one()
        assert journey.due_at == sale_end and journey.step == "wait_1"

    clock.set(sale_end)
    run_due()
    assert [m.step for m in messages(member["id"], channel="email", status="sent")] == ["first", "second"]


def test_consent_withdrawn_mid_journey_moves_the_next_message_to_the_in_app_inbox_only(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    client: FlaskClient,
    admin: Headers,
    messages: Callable[..., list[Any]],
    smtp_server: SmtpServer,
) -> None:
    add_scenario("four_emails", FOUR_EMAILS)
    member = make_member()
    engage(member["id"])
    run_due()
    response = client.patch(f"/api/v1/members/{member['id']}", json={"consents": {"email": False}}, headers=admin)
    assert response.status_code == 200

    clock.advance(timedelta(days=1))
    run_due()

    assert len(smtp_server.messages) == 1
    second = messages(member["id"], step="second")
    assert [(m.channel, m.status) for m in second] == [("in_app", "delivered")]


def test_a_message_queued_before_the_consent_was_withdrawn_is_suppressed(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    client: FlaskClient,
    admin: Headers,
    messages: Callable[..., list[Any]],
) -> None:
    add_scenario("four_emails", FOUR_EMAILS)
    clock.set(datetime(2026, 11, 22, 22, 0, tzinfo=UTC))  # 23:00 in Paris: deferred to the morning
    member = make_member()
    engage(member["id"])
    run_due()
    client.patch(f"/api/v1/members/{member['id']}", json={"consents": {"email": False}}, headers=admin)
    clock.advance(timedelta(hours=9))
    run_due()

    [first] = messages(member["id"], channel="email")
    assert (first.status, first.reason) == ("suppressed", "no_consent")


def test_no_marketing_reaches_a_member_with_an_open_complaint(
    make_member: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    add_scenario("four_emails", FOUR_EMAILS)
    member = make_member()
    with session_scope(sessions) as session:
        open_complaint(session, member["id"], subject="Parcel lost", note="", now=NOW)
    engage(member["id"])
    run_due()

    [first] = messages(member["id"], channel="email")
    assert (first.status, first.reason) == ("suppressed", "open_complaint")


def test_holdout_members_receive_nothing_and_are_counted_with_their_conversions(
    make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]],
    add_scenario: Callable[..., None],
    engage: Callable[..., None],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    definition = {**FOUR_EMAILS, "holdout_percent": 50, "goal": {"event": "purchase", "within_days": 7}}
    add_scenario("half_held_out", definition)
    members = [make_member() for _ in range(12)]
    for member in members:
        engage(member["id"])
    run_due()
    held_out = {m["id"] for m in members if assign("half_held_out", parse(definition), m["id"])[1]}
    assert 0 < len(held_out) < len(members)
    clock.advance(timedelta(hours=1))
    for member in members:
        make_purchase(member_id=member["id"], **purchase_at(clock, "15.00"))
    run_due()

    with sessions() as session:
        journeys = {j.member_id: j for j in session.scalars(select(Journey))}
    assert {member_id for member_id, j in journeys.items() if j.is_holdout} == held_out
    for member in members:
        journey = journeys[member["id"]]
        assert journey.converted_at is not None and journey.revenue == 15
        if member["id"] in held_out:
            assert messages(member["id"]) == []
            assert journey.end_reason == "holdout" or journey.status == "active"
        else:
            assert messages(member["id"], step="first") != []
