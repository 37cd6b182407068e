"""The scenario engine behind the API tests: a runtime with the application's signed links whose
channels write files under a temporary folder (or send email to a real local SMTP server), one
scheduler pass at the test clock's instant, a scenario created through the admin API, the tracked
links of an email, and the messages the authorization and bad-input worlds act on."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.scheduling import schedule
from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from loyalty.members.models import Member
from notifications.channels.base import Delivery, DeliveryFailed
from notifications.channels.registry import ChannelSettings, build_channels
from notifications.messages import compose, delivery
from notifications.messages.models import Message
from notifications.messages.operations import subscribe_push
from notifications.pressure.operations import add_blackout, open_complaint
from notifications.runtime import Runtime
from notifications.scenarios.templates import save_template
from notifications.scheduler.jobs import PassReport, run_pass
from tests.servers import SmtpServer

Headers = dict[str, str]

#: A template every channel can render: a greeting and a tracked link to the member's account.
NOTE = {
    "subject": "A note for {{ member.first_name }}",
    "text": "Hello {{ member.first_name }}, your account: {{ links.account }}",
    "html": '<p>Hello {{ member.first_name }}, <a href="{{ links.account }}">your account</a>.</p>',
    "short": "Hello {{ member.first_name }}",
}


def bilingual_note(**overrides: str) -> dict[str, Any]:
    """The note for a program in French and English (the default program): the French original,
    translated in English; ``overrides`` change a part in both."""
    french = {
        "subject": "Un mot pour {{ member.first_name }}",
        "text": "Bonjour {{ member.first_name }}, votre compte : {{ links.account }}",
        "html": '<p>Bonjour {{ member.first_name }}, <a href="{{ links.account }}">votre compte</a>.</p>',
        "short": "Bonjour {{ member.first_name }}",
    }
    return {**french, **overrides, "translations": {"en": {**NOTE, **overrides}}}


def make_runtime(app: Flask, files: Path, *, smtp_server: SmtpServer | None = None) -> Runtime:
    """The application's links; email to ``smtp_server`` if given, every other channel to files."""
    settings = ChannelSettings(
        files_directory=files,
        smtp_url=f"smtp://{smtp_server.host}:{smtp_server.port}" if smtp_server else None,
        mail_from="Loyalty <loyalty@example.com>" if smtp_server else None,
    )
    links = app.extensions["loyalty.runtime"].links
    return Runtime(channels=build_channels(settings), links=links, app_url="https://app.example.com")


def run_due(app: Flask, runtime: Runtime, clock: FrozenClock) -> PassReport:
    """One pass of the scheduler, as the leader, at the clock's instant."""
    return run_pass(
        app.extensions["loyalty.sessions"], runtime, clock=clock.now, schedule=schedule(app), is_leader=True
    )


def add_scenario(
    client: FlaskClient, admin: Headers, key: str, steps: list[dict[str, Any]], **definition: Any
) -> dict[str, Any]:
    """Create the ``note`` template and an active scenario entering each new member (``MemberEnrolled``)."""
    template = client.put("/api/v1/admin/templates/note", json=NOTE, headers=admin)
    assert template.status_code in (200, 201), template.json
    body = {
        "key": key,
        "name": key.replace("_", " ").capitalize(),
        "status": "active",
        "definition": {"trigger": {"event": "MemberEnrolled"}, "steps": steps, **definition},
    }
    response = client.post("/api/v1/admin/scenarios", json=body, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def path_of(url: str) -> str:
    return urlsplit(url).path


def pixel(message: Message) -> str:
    match = re.search(r'src="([^"]+/t/o/[^"]+)"', message.body_html or "")
    assert match, "the email has no open pixel"
    return path_of(match[1])


def account_link(message: Message) -> str:
    match = re.search(r'href="([^"]+/t/c/[^"]+)"', message.body_html or "")
    assert match, "the email has no tracked link"
    return path_of(match[1])


def message_world(
    sessions: sessionmaker[Session], runtime: Runtime, member_id: int, *, now: datetime
) -> dict[str, Any]:
    """What the message routes act on, for the worlds of the authorization and bad-input tests: an
    in-app message delivered to the member, an email sent to them and one given up (a dead letter),
    their push subscription, a blackout period and their open complaint. The messages go through
    the engine's own queueing and delivery bookkeeping, without a scheduler pass (fast)."""
    with session_scope(sessions) as session:
        save_template(session, "note", bilingual_note(), now=now)
        member = session.get_one(Member, member_id)
        queued = {
            name: compose.queue(
                session,
                runtime,
                compose.Request(
                    member=member,
                    template_key="note",
                    channels=[channel],
                    is_marketing=False,
                    key=f"world.{name}",
                    context={},
                ),
                now=now,
            )[0].id
            for name, channel in (("inbox", "in_app"), ("sent", "email"), ("dead", "email"))
        }
        claimed, _ = delivery.claim(session, runtime, now=now, limit=10)
        for item in claimed:
            if item.message_id == queued["dead"]:
                delivery.record_failure(
                    session, runtime, item, DeliveryFailed("mailbox unknown", permanent=True), now=now
                )
            else:
                delivery.record_sent(session, item, Delivery(provider_ref=f"ref-{item.message_id}"), now=now)
        subscription, _ = subscribe_push(session, member_id, {"kind": "device", "token": "device-token-1"}, now=now)
        blackout = add_blackout(
            session, name="Winter sale", starts_at=now + timedelta(days=60), ends_at=now + timedelta(days=90)
        )
        complaint = open_complaint(session, member_id, subject="Late delivery", note="", now=now)
        return {
            "inbox_message_id": queued["inbox"],
            "sent_message_id": queued["sent"],
            "dead_message_id": queued["dead"],
            "subscription_id": subscription.id,
            "blackout_id": blackout.id,
            "complaint_id": complaint.id,
        }
