"""Fixtures of the scenario tests: the shipped program with its built-in scenarios, real local
providers behind the channels, and ``run_due()``, one scheduler pass at the test clock's instant."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.scheduling import schedule
from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from notifications.channels.registry import ChannelSettings, build_channels
from notifications.messages.links import Links
from notifications.messages.models import Message
from notifications.runtime import Runtime
from notifications.scenarios.operations import create_scenario, list_scenarios, set_status
from notifications.scheduler.jobs import PassReport, run_pass
from tests.conftest import DEFAULT_PROGRAM, NOW
from tests.servers import ProviderServer, SmtpServer


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def runtime(app: Flask, smtp_server: SmtpServer, provider_server: ProviderServer, tmp_path: Path) -> Runtime:
    """Email to the local SMTP server, SMS and device pushes to the local provider."""
    settings = ChannelSettings(
        files_directory=tmp_path / "messages",
        smtp_url=f"smtp://{smtp_server.host}:{smtp_server.port}",
        mail_from="Loyalty <loyalty@example.com>",
        sms_webhook_url=f"{provider_server.url}/sms",
        sms_webhook_token="sms-token",
        push_webhook_url=f"{provider_server.url}/push",
        push_webhook_token="push-token",
    )
    links: Links = app.extensions["loyalty.runtime"].links
    return Runtime(channels=build_channels(settings), links=links, app_url="https://app.example.com")


@pytest.fixture
def run_due(app: Flask, runtime: Runtime, clock: FrozenClock) -> Callable[[], PassReport]:
    """One pass of the scheduler, as the leader, at the clock's instant."""

    def run() -> PassReport:
        return run_pass(
            app.extensions["loyalty.sessions"], runtime, clock=clock.now, schedule=schedule(app), is_leader=True
        )

    return run


@pytest.fixture
def pause(sessions: sessionmaker[Session]) -> Callable[..., None]:
    """``pause("welcome")``: keep a built-in scenario out of a story about another one; ``pause()``:
    all of them."""

    def pause_scenarios(*keys: str) -> None:
        with session_scope(sessions) as session:
            for key in keys or [scenario.key for scenario in list_scenarios(session)]:
                set_status(session, key, "paused", now=NOW)

    return pause_scenarios


@pytest.fixture
def messages(sessions: sessionmaker[Session]) -> Callable[..., list[Message]]:
    """``messages(member_id)``: the member's message rows, oldest first (detached, read-only)."""

    def read(member_id: int, **where: Any) -> list[Message]:
        with sessions() as session:
            query = select(Message).where(Message.member_id == member_id).order_by(Message.id)
            for name, value in where.items():
                query = query.where(getattr(Message, name) == value)
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows

    return read


@pytest.fixture
def open_email(client: FlaskClient) -> Callable[[Message], None]:
    """Load an email's open pixel, as a mail client showing images does."""

    def load_pixel(message: Message) -> None:
        match = re.search(r'src="https?://[^/"]+(/t/o/[^"]+)"', message.body_html or "")
        assert match, "the email has no open pixel"
        response = client.get(match[1])
        assert response.status_code == 200

    return load_pixel


def purchase_at(clock: FrozenClock, total: str, **overrides: Any) -> dict[str, Any]:
    """A purchase body at the clock's instant, of one line worth ``total``."""
    return {
        "occurred_at": clock.now().isoformat(),
        "total": total,
        "lines": [{"sku": "SHOE-42", "category": "shoes", "quantity": 1, "unit_price": total}],
        **overrides,
    }


@pytest.fixture
def add_scenario(sessions: sessionmaker[Session]) -> Callable[..., None]:
    """``add_scenario("promo", definition)``: an active scenario of the test's own."""

    def add(key: str, definition: dict[str, Any], *, is_marketing: bool = True) -> None:
        with session_scope(sessions) as session:
            create_scenario(
                session,
                {"key": key, "name": key, "status": "active", "is_marketing": is_marketing, "definition": definition},
                now=NOW,
            )

    return add


#: A scenario answering each engagement ``share`` with a message on SMS.
SMS_ON_SHARE = {
    "trigger": {"event": "EngagementRecorded", "where": {"action": "share"}},
    "steps": [{"id": "text", "send": "welcome", "channels": ["sms"]}],
}
