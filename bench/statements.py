"""The SQL a request issues: the real application, in process, on the bench database.

Each request's statements are recorded from the engine's cursor events; the first request of a kind
runs once beforehand so that connecting does not count.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from app import create_app
from bench.stack import SeededDatabase

#: A request to record: ``send(client, till_headers, service_headers, number)``; ``number`` tells the
#: warm-up call (1) from the recorded one (2), for requests that must differ (a new receipt).
Send = Callable[[FlaskClient, dict[str, str], dict[str, str], int], Any]


def till_purchase(store_code: str, receipt_no: str, member_id: int) -> dict[str, Any]:
    """The body of a till's purchase of two lines (29.90 EUR, one of them in the double-points category)."""
    return {
        "store_code": store_code,
        "receipt_no": receipt_no,
        "member_id": member_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "currency": "EUR",
        "total": "29.90",
        "channel": "store",
        "lines": [
            {"sku": "SKU-1", "category": "beauty", "quantity": 1, "unit_price": "19.90"},
            {"sku": "SKU-2", "category": "home", "quantity": 2, "unit_price": "5.00"},
        ],
    }


def statements_per_request(database: SeededDatabase, store_code: str) -> dict[str, list[str]]:
    """The statements of ``POST /purchases`` (a till), ``GET /members/{id}`` and its status document (a
    service), plus ``COMMIT`` when the request commits."""
    member_id = database.first_member_id

    def post_purchase(client: FlaskClient, till: dict[str, str], _service: dict[str, str], number: int) -> Any:
        body = till_purchase(store_code, f"SQL-{number}", member_id)
        return client.post("/api/v1/purchases", json=body, headers=till)

    def get_member(client: FlaskClient, _till: dict[str, str], service: dict[str, str], _number: int) -> Any:
        return client.get(f"/api/v1/members/{member_id}", headers=service)

    def get_status(client: FlaskClient, _till: dict[str, str], service: dict[str, str], _number: int) -> Any:
        return client.get(f"/api/v1/members/{member_id}/status", headers=service)

    return statements_of(
        database,
        (
            ("POST /api/v1/purchases", post_purchase),
            ("GET /api/v1/members/{id}", get_member),
            ("GET /api/v1/members/{id}/status", get_status),
        ),
    )


def statements_of(database: SeededDatabase, requests: Sequence[tuple[str, Send]]) -> dict[str, list[str]]:
    """The statements of each named request, sent a second time (the first call takes the connection
    and warms the caches), plus ``COMMIT`` when it commits."""
    app = create_app({"LOYALTY_DATABASE_URL": database.url, "LOYALTY_JWT_SECRET_KEY": secrets.token_urlsafe(32)})
    engine = app.extensions["loyalty.engine"]
    recorded: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: recorded.append(_first_line(args[2])))
    event.listen(engine, "commit", lambda _connection: recorded.append("COMMIT"))
    client = app.test_client()
    till = _bearer(client, database.till.client_id, database.till.client_secret)
    service = _bearer(client, database.service.client_id, database.service.client_secret)
    counted: dict[str, list[str]] = {}
    for name, send in requests:
        send(client, till, service, 1)
        recorded.clear()
        answer = send(client, till, service, 2)
        if answer.status_code >= 300:
            raise RuntimeError(f"{name} answered {answer.status_code}: {answer.get_data(as_text=True)}")
        counted[name] = list(recorded)
    engine.dispose()
    return counted


def _bearer(client: FlaskClient, client_id: str, client_secret: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"client_id": client_id, "client_secret": client_secret})
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def _first_line(statement: str) -> str:
    return " ".join(statement.split())[:110]
