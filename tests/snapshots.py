"""Snapshots of the whole database, to start many tests from the same state quickly.

Loading a program (YAML parsed, every part validated, rows written one by one) or building a test
world through the API costs far more than writing the resulting rows back: a snapshot keeps those
rows and :func:`restore` empties every table and inserts them again, table by table, in one
statement each. Ids are kept; on PostgreSQL the sequences are already past them.
"""

from __future__ import annotations

import time

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Base
from loyalty.db import session_scope

T = TypeVar("T")

Snapshot = list[tuple[Any, list[dict[str, Any]]]]


def take(session: Session) -> Snapshot:
    """Every row of every table, parents first, each table in primary-key order (but those a trigger
    keeps: inserting the rows it reads writes them again)."""
    snapshot = []
    for table in Base.metadata.sorted_tables:
        if table.info.get("kept_by_trigger"):
            continue
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
        snapshot.append((table, [dict(row) for row in rows]))
    return snapshot


def restore(session: Session, snapshot: Snapshot) -> None:
    """Empty every table (children first: DELETE is faster than TRUNCATE on tables this small), then
    insert the snapshot's rows."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    for table, rows in snapshot:
        if rows:
            session.execute(table.insert(), rows)


class Reused(Generic[T]):
    """A test world built once (through the API, slowly) and restored from its snapshot for every
    later test: ``world = Reused(); …; return world.get(app, lambda: build(...))``. A world holding
    tokens is built again once ``max_age_s`` have passed, before its tokens expire on a slow run."""

    def __init__(self, *, max_age_s: float | None = None) -> None:
        self._value: tuple[T, Snapshot] | None = None
        self._max_age_s = max_age_s
        self._built_at = 0.0

    def get(self, app: Flask, build: Callable[[], T]) -> T:
        sessions = app.extensions["loyalty.sessions"]
        if self._value is None or (self._max_age_s is not None and time.monotonic() - self._built_at > self._max_age_s):
            value = build()
            with session_scope(sessions) as session:
                self._value = (value, take(session))
            self._built_at = time.monotonic()
            return value
        with session_scope(sessions) as session:
            restore(session, self._value[1])
        return self._value[0]
