"""Two real scheduler processes on PostgreSQL, one killed in the middle of its work: every message
is sent, none twice.

The processes are ``flask --app wsgi loyalty scheduler`` with the real clock, sending SMS to a real
local HTTP provider that is slow enough for the kill to land mid-pass. The killed process's claimed
messages come back to the survivor when their lease runs out; the provider sees those again with the
same idempotency key, so each member gets one SMS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.db import session_scope
from loyalty.outbox import OutboxEvent
from notifications.messages.models import Message
from notifications.scenarios.operations import create_scenario
from tests.conftest import DATABASE_URL, DEFAULT_PROGRAM, NOW
from tests.servers import ProviderServer

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).parents[2]
MEMBERS = 60
SMS_ON_SHARE = {
    "trigger": {"event": "EngagementRecorded", "where": {"action": "share"}},
    "steps": [{"id": "text", "send": "welcome", "channels": ["sms"]}],
}


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def start_scheduler(provider_server: ProviderServer, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": DATABASE_URL,
        "LOYALTY_JWT_SECRET_KEY": "test-secret-key-of-at-least-32-bytes!",
        "LOYALTY_SMS_WEBHOOK_URL": f"{provider_server.url}/sms",
        "LOYALTY_SMS_WEBHOOK_TOKEN": "sms-token",
        "LOYALTY_SCHEDULER_POLL_SECONDS": "1",
        "LOYALTY_SEND_LEASE_SECONDS": "3",
    }

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "loyalty", "scheduler"],
            cwd=ROOT,
            env=env,
            stdout=(tmp_path / f"scheduler-{len(started)}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_two_schedulers_one_killed_mid_pass_lose_nothing_and_send_nothing_twice(
    make_member: Callable[..., dict[str, Any]],
    client: FlaskClient,
    service: dict[str, str],
    sessions: sessionmaker[Session],
    provider_server: ProviderServer,
    start_scheduler: Callable[[], subprocess.Popen[bytes]],
) -> None:
    with session_scope(sessions) as session:
        # Transactional: the real clock may be in the quiet hours when the suite runs.
        fields = {"key": "sms_on_share", "name": "SMS", "status": "active", "is_marketing": False, "definition": SMS_ON_SHARE}
        create_scenario(session, fields, now=NOW)
    members = [make_member(phone=f"+336{n:08d}") for n in range(MEMBERS)]
    for member in members:
        body = {"member_id": member["id"], "action": "share", "ref": "post", "occurred_at": NOW.isoformat()}
        assert client.post("/api/v1/engagements", json=body, headers=service).status_code == 201
    provider_server.slow_down(0.05)

    doomed = start_scheduler()
    start_scheduler()
    deadline = time.monotonic() + 30
    while len(provider_server.requests) < MEMBERS // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    doomed.kill()  # SIGKILL: no clean-up, its claims stay until their lease runs out
    assert 0 < len(provider_server.requests) < MEMBERS, "the kill must land while messages are being sent"

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sessions() as session:
            sent = session.scalar(select(func.count()).where(Message.channel == "sms", Message.status == "sent"))
        if sent == MEMBERS:
            break
        time.sleep(0.2)

    with sessions() as session:
        statuses = session.execute(
            select(Message.status, func.count()).where(Message.channel == "sms").group_by(Message.status)
        ).all()
        unpublished = session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None)))
    assert dict(statuses) == {"sent": MEMBERS}
    assert unpublished == 0
    recipients = sorted(request.json()["to"] for request in provider_server.messages)
    assert recipients == sorted(member["phone"] for member in members)
