"""The Python receiver of docs/integrations.md, as written, receives real deliveries: it accepts them,
handles each event once though a redriven delivery brings one again, and refuses a forged or
replayed request."""

from __future__ import annotations

import re
import time
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from notifications.webhooks.models import WebhookDelivery
from notifications.webhooks.signing import body as webhook_body, signature
from tests.servers import HOST, ThreadedHttpServer
from tests.webhooks.test_webhooks import ADMIN_WEBHOOKS, Headers, run_due, subscribe  # noqa: F401 (fixture)

DOC = Path(__file__).parents[2] / "docs" / "integrations.md"


def documented_receiver(secret: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The receiver's code block, run as the module ``receiver`` with ``WEBHOOK_SECRET`` set."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Receiving and verifying") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    module = types.ModuleType("receiver")
    exec(compile(code.group(1), str(DOC), "exec"), module.__dict__)
    return module


@pytest.fixture
def real_time(app: Flask, clock: FrozenClock) -> None:
    """The receiver checks signatures against its own clock: the program's must agree with it."""
    clock.set(datetime.now(UTC).replace(microsecond=0))


def test_the_documented_receiver_verifies_and_deduplicates_real_deliveries(
    real_time: None, client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]],
    run_due: Callable[[], str], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    server = ThreadedHttpServer(BaseHTTPRequestHandler)  # the receiver's handler once the secret is known
    url = f"http://{HOST}:{server.port}/hooks"
    created = subscribe(client, admin, url, "MemberEnrolled")
    receiver = documented_receiver(created["secret"], monkeypatch)
    server._http.RequestHandlerClass = receiver.Handler
    with server:
        members = [make_member()["id"] for _ in range(2)]
        run_due()
        with session_scope(sessions) as session:
            statuses = session.execute(select(WebhookDelivery.event_id, WebhookDelivery.status)).all()
            assert {status for _, status in statuses} == {"delivered"}, session.scalars(select(WebhookDelivery.last_error)).all()
            # The receiver said nothing wrong; send one again as a redrive would: handled once.
            session.execute(update(WebhookDelivery).values(status="dead", due_at=None))
        first = min(event_id for event_id, _ in statuses)
        dead = client.get(f"{ADMIN_WEBHOOKS}/{created['id']}/deliveries", query_string={"event_id": first}, headers=admin)
        (delivery,) = dead.json["items"]
        redriven = client.post(f"{ADMIN_WEBHOOKS}/{created['id']}/deliveries/{delivery['id']}/redrive", headers=admin)
        assert redriven.status_code == 200
        run_due()
        assert receiver.handled == {event_id for event_id, _ in statuses}
        assert len(members) == len(receiver.handled)
        # A forged signature, and a genuine one five minutes and a second old, are refused.
        payload = webhook_body(event_id=99, event_type="MemberEnrolled", occurred_at=datetime.now(UTC), data={})
        forged = signature(payload, timestamp=int(time.time()), secrets_=["whsec_not-the-secret"])
        stale = signature(payload, timestamp=int(time.time()) - 301, secrets_=[created["secret"]])
        fresh = signature(payload, timestamp=int(time.time()), secrets_=[created["secret"]])
        for header, status in ((forged, 401), (stale, 401), (fresh, 204)):
            answer = requests.post(url, data=payload, headers={"Loyalty-Signature": header}, timeout=5)
            assert answer.status_code == status
        assert 99 in receiver.handled
        assert not receiver.verify(payload, fresh, now=time.time() + timedelta(minutes=6).total_seconds())
