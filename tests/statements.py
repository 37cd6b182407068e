"""Counting the SQL statements a request sends, for the hot paths' statement budgets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class Statements:
    """The statements sent while counting, in order (``COMMIT`` is not a statement here)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __len__(self) -> int:
        return len(self.sent)

    def __str__(self) -> str:
        return "\n".join(f"{n}. {statement}" for n, statement in enumerate(self.sent, 1))


@contextmanager
def counting(engine: Engine) -> Iterator[Statements]:
    """Count the statements ``engine`` executes inside the block (an executemany counts once)."""
    statements = Statements()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.sent.append(" ".join(statement.split())[:300])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
