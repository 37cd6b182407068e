"""Fixtures shared by the whole suite.

The suite runs against SQLite by default and against PostgreSQL when ``LOYALTY_TEST_DATABASE_URL``
names one (``make test`` does both). The schema is built once per run by the real Alembic migrations;
each test that touches the database starts from empty tables and the default program.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from app.auth.clients import create_client
from app.migrate import upgrade
from app.ratelimits import limiter
from loyalty.clock import FrozenClock
from loyalty.consumers import run_consumers
from loyalty.db import make_engine, session_scope
from loyalty.program.operations import read_program_file
from notifications.bootstrap import CONSUMERS
from notifications.program import load_program
from tests.builders import member_body, purchase_body
from tests.servers import ProviderServer, SmtpServer
from tests.snapshots import Snapshot, restore, take

#: The program most tests run on; tests of tiers, rewards and engagement use the shipped default.
CORE_PROGRAM = Path(__file__).parent / "programs" / "core.yaml"
DEFAULT_PROGRAM = Path(resources.files("loyalty.program").joinpath("default_program.yaml"))  # type: ignore[arg-type]
#: The instant every test starts at; tests move the clock from there.
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
DATABASE_URL = os.environ.get("LOYALTY_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgres")

Headers = dict[str, str]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: runs in the PostgreSQL pass of `make test`")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if ON_POSTGRES:
        engine = make_engine(DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'loyalty.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture(scope="session")
def _app(database_url: str, clock: FrozenClock) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "LOYALTY_DATABASE_URL": database_url,
            "LOYALTY_JWT_SECRET_KEY": "test-secret-key-of-at-least-32-bytes!",
            "LOYALTY_CLOCK": clock,
            "LOYALTY_DB_POOL_SIZE": 20,
            "LOYALTY_DB_MAX_OVERFLOW": 60,
            # Tests change the configuration and clients behind the app's back (snapshots restored):
            # every request reads them (tests of the statement budgets set a longer time).
            "LOYALTY_CONFIG_CHECK_SECONDS": 0,
            # Cheap hashing: the tests check behaviour, not the cost of argon2.
            "LOYALTY_ARGON2_TIME_COST": 1,
            "LOYALTY_ARGON2_MEMORY_KIB": 8,
            "LOYALTY_ARGON2_PARALLELISM": 1,
            # Webhooks go to the tests' local servers (tests/webhooks turn it off to see the refusals).
            "LOYALTY_WEBHOOK_ALLOW_PRIVATE": True,
        }
    )
    yield app
    app.extensions["loyalty.engine"].dispose()


#: The rows of each program once loaded, restored by the next tests that start from it.
_programs: dict[Path, Snapshot] = {}


def reset_database(app: Flask, clock: FrozenClock, program: Path = CORE_PROGRAM) -> None:
    """Empty every table, load ``program`` and set the clock back to :data:`NOW`."""
    clock.set(NOW)
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        if program in _programs:
            restore(session, _programs[program])
            return
        restore(session, [])
        load_program(session, read_program_file(program), now=NOW)
        session.flush()
        _programs[program] = take(session)


@pytest.fixture
def program() -> Path:
    """The program a test starts from; a module overrides this fixture to use another one."""
    return CORE_PROGRAM


@pytest.fixture
def app(_app: Flask, clock: FrozenClock, program: Path) -> Flask:
    """The application, over empty tables holding only ``program``, at :data:`NOW`, with no attempt
    counted by the rate limits."""
    reset_database(_app, clock, program)
    limiter.reset()
    return _app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def caught_up(app: Flask, clock: FrozenClock) -> Callable[[], int]:
    """``caught_up()``: run the outbox consumers until none has anything left (the worker's part of
    every change: badges, challenges, streaks, leaderboards, scores, game plays, journeys)."""
    return lambda: run_consumers(app.extensions["loyalty.sessions"], CONSUMERS, clock=clock.now)


class CaughtUpClient(FlaskClient):
    """A test client whose every request comes after the consumers have caught up: for tests of the
    derived figures, as a member reads them a moment after the change."""

    caught_up: Callable[[], int]

    def open(self, *args: Any, **kwargs: Any) -> Any:
        self.caught_up()
        return super().open(*args, **kwargs)


@pytest.fixture
def caught_up_client(app: Flask, caught_up: Callable[[], int]) -> FlaskClient:
    """A :class:`CaughtUpClient`; a module of tests of derived figures makes it its ``client``."""
    client = CaughtUpClient(app, app.response_class, use_cookies=True)
    client.caught_up = caught_up
    return client


@pytest.fixture
def sessions(app: Flask) -> sessionmaker[Session]:
    """The session factory: tests that call operations directly open their own scope."""
    return app.extensions["loyalty.sessions"]


@pytest.fixture
def client_headers(app: Flask, client: FlaskClient, clock: FrozenClock) -> Callable[..., Headers]:
    """``client_headers("till", store="S1")``: bearer headers of a new API client with that role."""
    count = 0

    def make(role: str, *, store: str | None = None) -> Headers:
        nonlocal count
        count += 1
        with session_scope(app.extensions["loyalty.sessions"]) as session:
            credentials = create_client(
                session, name=f"{role}-{count}", role=role, store_code=store, now=clock.now()
            )
        response = client.post(
            "/api/v1/auth/token",
            json={"client_id": credentials.client_id, "client_secret": credentials.client_secret},
        )
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return make


@pytest.fixture
def admin(client_headers: Callable[..., Headers]) -> Headers:
    return client_headers("admin")


@pytest.fixture
def service(client_headers: Callable[..., Headers]) -> Headers:
    return client_headers("service")


@pytest.fixture
def till(client_headers: Callable[..., Headers]) -> Headers:
    """A till of store ``S1``."""
    return client_headers("till", store="S1")


@pytest.fixture
def make_member(client: FlaskClient, admin: Headers) -> Callable[..., dict[str, Any]]:
    """``make_member(first_name="Paul")``: enrol a member through the API and return it as JSON."""

    def make(**overrides: Any) -> dict[str, Any]:
        response = client.post("/api/v1/members", json=member_body(**overrides), headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    return make


@pytest.fixture
def make_purchase(client: FlaskClient, till: Headers) -> Callable[..., dict[str, Any]]:
    """``make_purchase(member_id=1, total="10.00")``: record a receipt from store S1's till, as JSON."""

    def make(**overrides: Any) -> dict[str, Any]:
        response = client.post("/api/v1/purchases", json=purchase_body(**overrides), headers=till)
        assert response.status_code == 201, response.json
        return response.json

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., Headers]:
    """``login(member)``: bearer headers of a member enrolled with the builder's default password."""

    def log_in(member: dict[str, Any], password: str = "correct-horse") -> Headers:
        response = client.post("/api/v1/auth/login", json={"email": member["email"], "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return log_in


@pytest.fixture
def member_with(client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]]) -> Callable[[int], dict[str, Any]]:
    """``member_with(50)``: a new member whose balance is exactly 50 points (an adjustment tops up what
    enrolment gave)."""

    def make(points: int) -> dict[str, Any]:
        member = make_member()
        missing = points - member["points_balance"]
        if missing:
            response = client.post(
                f"/api/v1/members/{member['id']}/adjustments",
                json={"points": missing, "reason": "test balance"},
                headers=admin,
            )
            assert response.json["points_balance"] == points, response.json
        return member

    return make


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port; ``smtp_server.messages`` holds what it accepted."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def provider_server() -> Iterator[ProviderServer]:
    """A real HTTP server playing an SMS/push provider; ``provider_server.messages`` holds what it took."""
    with ProviderServer() as server:
        yield server
