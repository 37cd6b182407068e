"""Message links and push subscriptions hit at the same instant, over real connections to PostgreSQL:
a mail client loading the open pixel many times at once counts one open; a browser registered twice at
once is one subscription."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from loyalty.outbox import OutboxEvent
from notifications.messages.models import Message, PushSubscription
from tests.api.scenario_engine import add_scenario, make_runtime, pixel, run_due
from tests.integration.concurrency import statuses

pytestmark = pytest.mark.postgres


def test_an_email_opened_many_times_at_once_counts_one_open(
    app: Flask, client, admin, clock, make_member, sessions, together, tmp_path: Path
) -> None:
    add_scenario(client, admin, "hello", [{"id": "hello", "send": "note", "channels": ["email"]}])
    make_member()
    run_due(app, make_runtime(app, tmp_path), clock)
    with sessions() as session:
        email = session.scalars(select(Message).where(Message.channel == "email")).one()
        session.expunge(email)

    responses = together(10, lambda c, _: c.get(pixel(email)))

    assert statuses(responses) == {200: 10}
    with sessions() as session:
        events = session.scalars(select(OutboxEvent.id).where(OutboxEvent.event_type == "MessageOpened")).all()
        assert len(events) == 1
        assert session.get_one(Message, email.id).opened_at is not None


def test_a_browser_registered_many_times_at_once_is_one_subscription(make_member, login, sessions, together) -> None:
    headers = login(make_member())
    body = {"endpoint": "https://push.example.com/send/1", "keys": {"p256dh": "BOr-key", "auth": "secret"}}

    responses = together(10, lambda c, _: c.post("/api/v1/me/push-subscriptions", json=body, headers=headers))

    assert statuses(responses) == {201: 1, 200: 9}
    assert len({response.json["id"] for response in responses}) == 1
    with sessions() as session:
        assert len(session.scalars(select(PushSubscription.id)).all()) == 1
