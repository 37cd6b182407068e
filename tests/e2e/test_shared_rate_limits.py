"""Workers count failed logins together through Redis (LOYALTY_RATELIMIT_STORAGE_URL): the 6th wrong
password within a minute is a 429 even when each worker has seen only three.

Two gunicorn processes over the same database and Redis take the attempts in turn (which worker of
one process takes a connection is the kernel's choice; two processes make the test deterministic).
The same turns against workers counting in their own memory let the 6th through: the test can fail.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import requests
from flask import Flask

from tests.builders import member_body
from tests.e2e.conftest import LiveServer, client_token
from tests.e2e.server_pairs import Pair as Workers
from tests.e2e.server_pairs import redis_url, start_pair  # noqa: F401  (the fixtures)


def in_turn(workers: Workers, attempts: list[tuple[str, str]]) -> list[int]:
    """Wrong passwords ``(email, address)``, sent to each worker in turn; their statuses."""
    statuses = []
    for number, (email, address) in enumerate(attempts):
        response = requests.post(
            f"{workers[number % 2].api}/auth/login", json={"email": email, "password": "wrong-horse"},
            headers={"X-Forwarded-For": address}, timeout=10,
        )  # fmt: skip
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
            assert response.headers["Content-Type"] == "application/problem+json"
        statuses.append(response.status_code)
    return statuses


def new_email() -> str:
    """An address no other run uses: the counters in Redis outlive a test."""
    return f"{uuid.uuid4().hex[:16]}@example.com"


def new_address() -> str:
    return f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"


def enrol(app: Flask, server: LiveServer) -> str:
    email = new_email()
    headers = {"Authorization": f"Bearer {client_token(app, server, 'admin')}"}
    requests.post(f"{server.api}/members", json=member_body(email=email), headers=headers, timeout=10).raise_for_status()
    return email


def test_workers_sharing_redis_refuse_the_sixth_wrong_password_per_account_and_per_address(
    app: Flask, start_pair: Callable[[str | None], Workers], redis_url: str
) -> None:
    workers = start_pair(redis_url)
    email = enrol(app, workers[0])
    assert in_turn(workers, [(email, new_address()) for _ in range(6)]) == [401] * 5 + [429]
    address = new_address()
    assert in_turn(workers, [(new_email(), address) for _ in range(6)]) == [401] * 5 + [429]


def test_workers_counting_alone_let_the_sixth_through(app: Flask, start_pair: Callable[[str | None], Workers]) -> None:
    workers = start_pair(None)
    email = enrol(app, workers[0])
    assert in_turn(workers, [(email, new_address()) for _ in range(6)]) == [401] * 6
