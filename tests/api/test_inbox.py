"""The app's side of messages: the in-app inbox, opens the app reports, push subscriptions; and the
messages of a member as support reads them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.outbox import OutboxEvent
from notifications.journeys.models import Journey
from notifications.messages.models import Message, PushSubscription
from notifications.runtime import Runtime
from tests.api.scenario_engine import add_scenario, make_runtime, run_due

Headers = dict[str, str]

IN_APP = [{"id": "hello", "send": "note", "channels": ["in_app"]}]
#: An email; read (in the app or in the mailbox) within a day: a thank-you in the app, else a reminder.
EMAIL_THEN_BRANCH = [
    {"id": "hello", "send": "note", "channels": ["email"]},
    {"id": "read", "branch": "opened", "of": "hello", "within": "1d", "then": "thanks", "else": "reminder"},
    {"id": "thanks", "send": "note", "channels": ["in_app"], "next": None},
    {"id": "reminder", "send": "note", "channels": ["in_app"]},
]
WEB_PUSH = {
    "endpoint": "https://push.example.com/send/abc123",
    "keys": {"p256dh": "BOr-public-key", "auth": "auth-secret"},
}


@pytest.fixture
def runtime(app: Flask, tmp_path: Path) -> Runtime:
    return make_runtime(app, tmp_path)


@pytest.fixture
def enrolled(client, admin, app, clock, make_member, login, runtime) -> Any:
    """``enrolled(steps)``: a scenario of ``steps`` for every new member, and a member through it: the
    member, their headers."""

    def enrol(steps: list[dict[str, Any]]) -> tuple[dict[str, Any], Headers]:
        add_scenario(client, admin, "hello", steps)
        member = make_member(first_name="Lea")
        run_due(app, runtime, clock)
        return member, login(member)

    return enrol


def inbox(client: FlaskClient, headers: Headers, **query: Any) -> dict[str, Any]:
    response = client.get("/api/v1/me/inbox", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_an_in_app_message_is_in_the_inbox_unread_until_read(client, clock, enrolled, sessions) -> None:
    member, headers = enrolled(IN_APP)
    [item] = inbox(client, headers)["items"]
    assert item["subject"] == "A note for Lea" and not item["is_read"]
    assert inbox(client, headers)["unread"] == 1

    clock.advance(timedelta(minutes=5))
    read = client.post(f"/api/v1/me/inbox/{item['id']}/read", headers=headers)
    clock.advance(timedelta(minutes=5))
    again = client.post(f"/api/v1/me/inbox/{item['id']}/read", headers=headers)

    assert read.status_code == 200 and read.json["is_read"]
    assert again.json["read_at"] == read.json["read_at"]
    assert inbox(client, headers)["unread"] == 0
    with sessions() as session:
        opened = session.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == "MessageOpened")).all()
    assert opened == [
        {**opened[0], "member_id": member["id"], "message_id": item["id"], "channel": "in_app", "scenario": "hello"}
    ]
    assert len(opened) == 1


def test_reading_the_in_app_copy_of_an_email_opens_the_email_and_the_branch_goes_on_at_once(
    client, app, clock, enrolled, sessions, runtime
) -> None:
    _, headers = enrolled(EMAIL_THEN_BRANCH)
    [copy] = inbox(client, headers)["items"]
    clock.advance(timedelta(hours=2))

    client.post(f"/api/v1/me/inbox/{copy['id']}/read", headers=headers)
    with sessions() as session:
        journey = session.scalars(select(Journey)).one()
        email = session.scalars(select(Message).where(Message.channel == "email")).one()
    assert journey.due_at == clock.now() and email.opened_at == clock.now()
    run_due(app, runtime, clock)

    with sessions() as session:
        steps = session.scalars(
            select(Message.step).where(Message.channel == "in_app", Message.copy_of_id.is_(None))
        ).all()
    assert steps == ["thanks"]


def test_an_unread_email_leads_to_the_other_branch_at_its_deadline(
    client, app, clock, enrolled, sessions, runtime
) -> None:
    enrolled(EMAIL_THEN_BRANCH)
    clock.advance(timedelta(days=1, minutes=1))
    run_due(app, runtime, clock)
    with sessions() as session:
        steps = session.scalars(
            select(Message.step).where(Message.channel == "in_app", Message.copy_of_id.is_(None))
        ).all()
    assert steps == ["reminder"]


def test_the_inbox_shows_only_the_members_delivered_in_app_messages_newest_first(
    client, admin, app, clock, make_member, login, enrolled, runtime
) -> None:
    member, headers = enrolled(IN_APP)
    other = make_member()
    clock.advance(timedelta(hours=1))
    run_due(app, runtime, clock)
    assert (
        client.patch(
            "/api/v1/admin/scenarios/hello",
            json={
                "definition": {
                    "trigger": {"event": "MemberUpdated"},
                    "steps": [{"id": "again", "send": "note", "channels": ["in_app"]}],
                }
            },
            headers=admin,
        ).status_code
        == 200
    )
    client.patch(f"/api/v1/members/{member['id']}", json={"first_name": "Léa"}, headers=headers)
    run_due(app, runtime, clock)

    page = inbox(client, headers, limit=1)
    rest = inbox(client, headers, limit=1, before=page["next_before"])

    assert [item["subject"] for item in page["items"] + rest["items"]] == ["A note for Léa", "A note for Lea"]
    assert rest["next_before"] is None and page["unread"] == 2
    assert len(inbox(client, login(other))["items"]) == 1


def test_a_member_cannot_read_a_message_of_someone_else(client, make_member, login, enrolled) -> None:
    _, headers = enrolled(IN_APP)
    [item] = inbox(client, headers)["items"]
    stranger = login(make_member())
    assert client.post(f"/api/v1/me/inbox/{item['id']}/read", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/me/messages/{item['id']}/opened", headers=stranger).status_code == 404
    assert inbox(client, headers)["unread"] == 1


def test_the_app_reports_a_push_opened_on_the_members_own_message(client, enrolled, sessions) -> None:
    _, headers = enrolled(EMAIL_THEN_BRANCH)
    with sessions() as session:
        email_id = session.scalars(select(Message.id).where(Message.channel == "email")).one()

    response = client.post(f"/api/v1/me/messages/{email_id}/opened", headers=headers)

    assert response.status_code == 200, response.json
    assert response.json["opened_at"] is not None and response.json["channel"] == "email"


def test_a_browser_subscribes_to_pushes_once_and_can_stop(client, make_member, login, sessions) -> None:
    member = make_member()
    headers = login(member)
    created = client.post("/api/v1/me/push-subscriptions", json=WEB_PUSH, headers=headers)
    again = client.post("/api/v1/me/push-subscriptions", json=WEB_PUSH, headers=headers)
    device = client.post(
        "/api/v1/me/push-subscriptions", json={"kind": "device", "token": "fcm-token-1"}, headers=headers
    )

    assert (created.status_code, again.status_code, device.status_code) == (201, 200, 201)
    assert again.json["id"] == created.json["id"] and created.json["kind"] == "webpush"
    assert client.delete(f"/api/v1/me/push-subscriptions/{created.json['id']}", headers=headers).status_code == 204
    with sessions() as session:
        assert session.scalars(select(PushSubscription.address)).all() == ["fcm-token-1"]


def test_a_browser_registered_by_another_member_moves_to_the_member_registering_it(client, make_member, login) -> None:
    first, second = login(make_member()), login(make_member())
    subscription = client.post("/api/v1/me/push-subscriptions", json=WEB_PUSH, headers=first).json

    assert client.post("/api/v1/me/push-subscriptions", json=WEB_PUSH, headers=second).status_code == 200
    assert client.delete(f"/api/v1/me/push-subscriptions/{subscription['id']}", headers=first).status_code == 404
    assert client.delete(f"/api/v1/me/push-subscriptions/{subscription['id']}", headers=second).status_code == 204


def test_support_reads_what_was_sent_to_a_member_newest_first(client, service, enrolled) -> None:
    member, _ = enrolled(EMAIL_THEN_BRANCH)

    response = client.get(f"/api/v1/members/{member['id']}/messages", headers=service)

    assert response.status_code == 200, response.json
    copy, email = response.json["items"]
    assert (email["channel"], email["status"], email["scenario"], email["step"]) == ("email", "sent", "hello", "hello")
    assert email["subject"] == "A note for Lea" and "Hello Lea" in email["text"] and email["short"] == "Hello Lea"
    assert email["sent_at"] is not None and email["opened_at"] is None
    assert (copy["channel"], copy["copy_of_id"], copy["status"]) == ("in_app", email["id"], "delivered")
