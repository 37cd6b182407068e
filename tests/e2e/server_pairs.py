"""Two server processes of one database that count rate limits in a shared store (Redis) or each in
its own memory: the fixtures of the tests that several workers share their counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from tests.e2e.conftest import LiveServer, start_server

REDIS_URL = "redis://127.0.0.1:6379/0"

Pair = tuple[LiveServer, LiveServer]


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis does not answer at {REDIS_URL} (.ci/run starts it)")
    return REDIS_URL


@pytest.fixture
def start_pair(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[[str | None], Pair]]:
    """``start_pair(storage_url)``: two server processes counting in that store (None: in memory)."""
    started: list[LiveServer] = []

    def start(storage_url: str | None) -> Pair:
        env = {"LOYALTY_TRUSTED_PROXIES": "1", "LOYALTY_RATELIMIT_STORAGE_URL": storage_url or ""}
        pair = tuple(start_server(database_url, tmp_path / f"server-{len(started) + n}.log", env=env) for n in range(2))
        started.extend(pair)
        return pair[0], pair[1]

    yield start
    for server in started:
        server.stop()
