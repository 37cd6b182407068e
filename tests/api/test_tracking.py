"""The links inside messages (open pixel, tracked clicks, unsubscribe) and the providers' delivery
reports: what they record, what they wake, and what they refuse."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.outbox import OutboxEvent
from notifications.journeys.models import Journey
from notifications.messages.models import Message
from notifications.runtime import Runtime
from tests.api.scenario_engine import (
    account_link,
    add_scenario,
    make_runtime,
    path_of,
    pixel,
    run_due,
)

Headers = dict[str, str]
SECRET = "webhook-secret-of-the-provider"
#: An email; clicked within two days: nothing more, else a second email.
EMAIL_THEN_CLICK_BRANCH = [
    {"id": "hello", "send": "note", "channels": ["email"]},
    {"id": "clicked", "branch": "clicked", "of": "hello", "within": "2d", "else": "again"},
    {"id": "again", "send": "note", "channels": ["email"]},
]


@pytest.fixture
def runtime(app: Flask, tmp_path: Path) -> Runtime:
    return make_runtime(app, tmp_path)


@pytest.fixture
def email(client, admin, app, clock, make_member, runtime, sessions) -> Message:
    """The email a new member was sent (detached)."""
    add_scenario(client, admin, "hello", EMAIL_THEN_CLICK_BRANCH)
    make_member(first_name="Lea")
    run_due(app, runtime, clock)
    return read_email(sessions)


def read_email(sessions: sessionmaker[Session]) -> Message:
    with sessions() as session:
        message = session.scalars(select(Message).where(Message.channel == "email").order_by(Message.id)).first()
        assert message is not None
        session.expunge(message)
        return message


def events(sessions: sessionmaker[Session], event_type: str) -> list[dict[str, Any]]:
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboxEvent.payload).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
            )
        )


def test_the_open_pixel_is_a_transparent_gif_never_cached_and_records_the_first_open(
    client, clock, email, sessions
) -> None:
    first = client.get(pixel(email))
    opened_at = clock.now()
    clock.advance(timedelta(hours=3))
    second = client.get(pixel(email))

    assert first.status_code == 200 and first.mimetype == "image/gif" and first.data.startswith(b"GIF89a")
    assert "no-store" in first.headers["Cache-Control"] and second.data == first.data
    assert read_email(sessions).opened_at == opened_at
    [event] = events(sessions, "MessageOpened")
    assert (event["message_id"], event["channel"], event["scenario"]) == (email.id, "email", "hello")


def test_a_click_redirects_to_the_signed_url_and_records_the_click_and_the_open(client, email, sessions) -> None:
    response = client.get(account_link(email) + "?url=https://evil.example.com/")

    assert response.status_code == 302
    assert response.headers["Location"] == "https://app.example.com/account"
    message = read_email(sessions)
    assert message.clicked_at is not None and message.opened_at == message.clicked_at
    assert len(events(sessions, "MessageClicked")) == 1 and len(events(sessions, "MessageOpened")) == 1


def test_a_click_wakes_the_journey_waiting_for_it_so_no_second_email_goes(
    client, app, clock, email, sessions, runtime
) -> None:
    clock.advance(timedelta(hours=1))
    client.get(account_link(email))
    with sessions() as session:
        assert session.scalars(select(Journey.due_at)).one() == clock.now()
    run_due(app, runtime, clock)
    clock.advance(timedelta(days=3))
    run_due(app, runtime, clock)

    with sessions() as session:
        journey = session.scalars(select(Journey)).one()
        emails = session.scalars(select(Message.step).where(Message.channel == "email")).all()
    assert journey.status == "ended" and emails == ["hello"]


@pytest.mark.parametrize("kind", ["o", "c", "u"])
@pytest.mark.parametrize("token", ["not-a-token", "WyJqMS5oZWxsby5lbWFpbCJd.forged-signature"])
def test_a_token_that_is_not_ours_is_a_404_problem(client, kind, token) -> None:
    response = client.get(f"/t/{kind}/{token}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_a_token_signed_for_another_purpose_is_refused(client, email) -> None:
    token = pixel(email).rsplit("/", 1)[1]
    assert client.get(f"/t/c/{token}").status_code == 404
    assert client.post(f"/t/u/{token}").status_code == 404


def test_the_unsubscribe_page_asks_before_withdrawing_the_consent(client, admin, email, sessions) -> None:
    link = path_of(email.data["unsubscribe"])

    page = client.get(link)
    assert page.status_code == 200 and page.mimetype == "text/html" and '<form method="post">' in page.text
    assert client.get(f"/api/v1/members/{email.member_id}", headers=admin).json["consents"]["email"] is True

    done = client.post(link)
    assert done.status_code == 200 and "no longer receive emails" in done.text
    assert client.get(f"/api/v1/members/{email.member_id}", headers=admin).json["consents"] == {
        "email": False, "sms": True, "push": False, "postal": False,
    }  # fmt: skip
    [updated] = events(sessions, "MemberUpdated")
    assert updated["changed"] == ["consents.email"]


def test_one_click_unsubscribe_from_the_mail_client_works_and_can_be_repeated(client, admin, email, sessions) -> None:
    link = path_of(email.data["unsubscribe"])
    for _ in range(2):
        response = client.post(link, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    assert client.get(f"/api/v1/members/{email.member_id}", headers=admin).json["consents"]["email"] is False
    assert len(events(sessions, "MemberUpdated")) == 1


@pytest.fixture
def report(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``report("email", {...})``: a provider's delivery report, with the shared secret."""
    monkeypatch.setitem(app.config, "LOYALTY_WEBHOOK_SECRET", SECRET)

    def send(channel: str, body: dict[str, Any], secret: str = SECRET) -> Any:
        return client.post(f"/api/v1/webhooks/{channel}", json=body, headers={"X-Webhook-Secret": secret})

    return send


def test_a_delivery_report_sets_the_delivery_time_once(report, email, clock, sessions) -> None:
    first = report("email", {"provider_ref": email.provider_ref, "status": "delivered"})
    clock.advance(timedelta(minutes=5))
    again = report("email", {"send_key": email.send_key, "status": "delivered"})

    assert first.status_code == 200 and first.json["status"] == "delivered"
    assert again.json["delivered_at"] == first.json["delivered_at"]
    assert read_email(sessions).delivered_at is not None


def test_a_bounce_makes_the_message_a_dead_letter_with_the_reason(report, email, client, admin) -> None:
    response = report("email", {"send_key": email.send_key, "status": "bounced", "reason": "mailbox unknown"})

    assert response.status_code == 200 and response.json["status"] == "dead"
    [dead] = client.get("/api/v1/admin/messages?status=dead", headers=admin).json["items"]
    assert (dead["id"], dead["reason"]) == (email.id, "bounced: mailbox unknown")
    assert (
        report("email", {"send_key": email.send_key, "status": "failed"}).json["reason"] == "bounced: mailbox unknown"
    )


def test_an_open_reported_by_the_provider_counts_at_the_time_it_gives(report, email, clock, sessions) -> None:
    at = clock.now() + timedelta(minutes=10)
    clock.advance(timedelta(hours=1))
    response = report("email", {"send_key": email.send_key, "status": "opened", "at": at.isoformat()})
    assert response.status_code == 200
    assert read_email(sessions).opened_at == at


@pytest.mark.parametrize(
    ("channel", "body", "status"),
    [
        ("email", {"send_key": "j999.hello.email", "status": "delivered"}, 404),
        ("sms", {"send_key": "{send_key}", "status": "delivered"}, 404),
        ("fax", {"send_key": "{send_key}", "status": "delivered"}, 404),
        ("email", {"send_key": "{send_key}", "status": "read"}, 422),
        ("email", {"status": "delivered"}, 422),
    ],
    ids=["unknown message", "message of another channel", "unknown channel", "unknown status", "no reference"],
)
def test_a_report_on_no_known_message_is_refused(report, email, channel, body, status) -> None:
    body = {key: value.format(send_key=email.send_key) for key, value in body.items()}
    response = report(channel, body)
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"


def test_a_report_without_the_secret_or_with_webhooks_off_is_forbidden(
    app, report, email, sessions, monkeypatch
) -> None:
    body = {"send_key": email.send_key, "status": "bounced"}
    assert report("email", body, secret="guess").status_code == 403
    monkeypatch.setitem(app.config, "LOYALTY_WEBHOOK_SECRET", None)
    assert report("email", body, secret="").status_code == 403
    assert read_email(sessions).status == "sent"
