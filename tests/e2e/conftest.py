"""A live server (gunicorn serving ``wsgi:app``) over the test database, and tokens for each role."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask

from app.auth.clients import create_client
from loyalty.db import session_scope
from tests.builders import member_body
from tests.servers import HOST, free_port

ROOT = Path(__file__).parents[2]
JWT_SECRET = "test-secret-key-of-at-least-32-bytes!"
#: Importing the application takes a few seconds, but half a minute and more on a machine busy with other work.
READY_TIMEOUT_S = 120


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    database_url: str,
    log: Path,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
) -> LiveServer:
    """gunicorn on a free local port; answers once ``/health`` does."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"{HOST}:{port}", "--workers", str(workers),
        "--threads", "4",
        # Generated requests carry long query strings: the application answers them, not gunicorn's
        # HTML page (production puts a proxy with its own limits in front).
        "--limit-request-line", "0",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={
            **os.environ,
            "LOYALTY_DATABASE_URL": database_url,
            "LOYALTY_JWT_SECRET_KEY": JWT_SECRET,
            "LOYALTY_ARGON2_TIME_COST": "1",
            "LOYALTY_ARGON2_MEMORY_KIB": "8",
            "LOYALTY_ARGON2_PARALLELISM": "1",
            **(env or {}),
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = LiveServer(url=f"http://{HOST}:{port}", process=process, log=log)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()}")
        try:
            if requests.get(f"{server.url}/health", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the server did not answer in {READY_TIMEOUT_S} s: {log.read_text()}")


@pytest.fixture
def live_server(app: Flask, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """One gunicorn worker over the test database, which ``app`` has just reset."""
    server = start_server(database_url, tmp_path / "server.log")
    yield server
    server.stop()


def client_token(app: Flask, server: LiveServer, role: str, store: str | None = None) -> str:
    """The access token of a new API client with ``role``, from the live server."""
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        credentials = create_client(
            session, name=f"live-{role}", role=role, store_code=store, now=app.extensions["loyalty.clock"].now()
        )
    response = requests.post(
        f"{server.api}/auth/token",
        json={"client_id": credentials.client_id, "client_secret": credentials.client_secret},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture
def admin_token(app: Flask, live_server: LiveServer) -> str:
    return client_token(app, live_server, "admin")


@pytest.fixture
def live_tokens(app: Flask, live_server: LiveServer, admin_token: str) -> dict[str, str]:
    """An access token per role, from the live server: admin, service, till (store S1) and member."""
    tokens = {
        "admin": admin_token,
        "service": client_token(app, live_server, "service"),
        "till": client_token(app, live_server, "till", "S1"),
    }
    member = member_body(email="live-member@example.com")
    enrolled = requests.post(
        f"{live_server.api}/members", json=member, headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=10
    )
    enrolled.raise_for_status()
    login = requests.post(
        f"{live_server.api}/auth/login", json={"email": member["email"], "password": member["password"]}, timeout=10
    )
    login.raise_for_status()
    tokens["member"] = login.json()["access_token"]
    return tokens
