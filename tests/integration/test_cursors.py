"""The PostgreSQL cursors describe a statement's result once per connection (loyalty.cursors), and
every result still gets its own statement's columns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from loyalty.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    with engine.connect():
        pass  # the dialect's own first queries (server version, settings) out of the way
    yield engine
    engine.dispose()


@pytest.fixture
def columns_built(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the columns psycopg describes on ``engine``'s connection, as it builds each."""
    built: list[str] = []
    describe = psycopg.Column.__init__

    def counting(column: psycopg.Column, cursor: Any, index: int) -> None:
        describe(column, cursor, index)
        built.append(column.name)

    monkeypatch.setattr(psycopg.Column, "__init__", counting)
    return built


def test_a_statement_run_again_is_described_once(engine: Engine, columns_built: list[str]) -> None:
    statement = text("SELECT :number AS number, 'x' AS letter")
    with engine.connect() as connection:
        answers = [connection.execute(statement, {"number": number}).one() for number in range(5)]
    assert [(answer.number, answer.letter) for answer in answers] == [(number, "x") for number in range(5)]
    assert columns_built == ["number", "letter"]


def test_each_statement_gets_its_own_columns(engine: Engine, columns_built: list[str]) -> None:
    with engine.connect() as connection:
        for _ in range(2):
            assert list(connection.execute(text("SELECT 1 AS a, 2 AS b")).keys()) == ["a", "b"]
            assert list(connection.execute(text("SELECT 3 AS c")).keys()) == ["c"]
            assert list(connection.execute(text("SELECT 1 AS b, 2 AS a")).keys()) == ["b", "a"]
    assert columns_built == ["a", "b", "c", "b", "a"]


def test_a_result_not_from_execute_is_described_afresh(engine: Engine) -> None:
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("SELECT 1 AS a")
        assert [column.name for column in cursor.description] == ["a"]
        cursor.executemany("SELECT %s AS z, %s AS y", [(1, 2), (3, 4)], returning=True)
        assert [column.name for column in cursor.description] == ["z", "y"]
        assert cursor.nextset()
        assert [column.name for column in cursor.description] == ["z", "y"]
        cursor.execute("SELECT 1 AS a")
        assert [column.name for column in cursor.description] == ["a"]
        cursor.execute("SET application_name = 'cursors'")
        assert cursor.description is None
