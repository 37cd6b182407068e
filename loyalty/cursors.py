"""psycopg's cursor, describing a statement's result columns once per connection.

SQLAlchemy asks every result for the cursor's ``description``, for which psycopg builds a new
``Column`` per column, each looking its type up: a third of the member read's statement (33 columns)
and a tenth of its request's CPU. For a statement it has compiled before, SQLAlchemy then uses none
of it: it keeps what it learnt from the first result with the compiled statement. This cursor keeps
each statement's description on its connection and hands out the same columns again while its result
is the one that statement's ``execute`` produced (``executemany``, ``nextset`` and the like describe
theirs afresh).

The same text on the same connection gives the same columns as long as the tables keep their
columns' names and types, which only a migration changes; upgrading restarts the workers
(docs/operations.md, "Upgrading"), and a release whose migration renames what it reads stops them.
The types are those of the text's first result, which SQLAlchemy's own cache of a compiled
statement's result already assumes (a text whose column types follow its parameters' would keep the
first's: the application sends none).
"""

from __future__ import annotations

from typing import Any, Self
from weakref import WeakKeyDictionary

import psycopg
from psycopg.abc import Params

#: Per connection: ``(statement, number of columns)`` → the columns of its result.
_DESCRIPTIONS: WeakKeyDictionary[psycopg.Connection[Any], dict[tuple[str | bytes, int], list[psycopg.Column]]] = WeakKeyDictionary()


class DescribedOnceCursor(psycopg.Cursor[Any]):
    """A client cursor whose results' ``description`` is built once per statement and connection
    (``cursor_factory`` of the engine's connections, :func:`loyalty.db.make_engine`)."""

    __slots__ = ("_executed",)

    def execute(self, query: Any, params: Params | None = None, *, prepare: bool | None = None, binary: bool | None = None) -> Self:
        self._executed: tuple[str | bytes, Any] | None = None
        super().execute(query, params, prepare=prepare, binary=binary)
        if isinstance(query, (str, bytes)):
            self._executed = (query, self.pgresult)
        return self

    @property
    def description(self) -> list[psycopg.Column] | None:
        executed, result = getattr(self, "_executed", None), self.pgresult
        if executed is None or result is None or executed[1] is not result or not result.nfields:
            return super().description
        known = _DESCRIPTIONS.get(self.connection)
        if known is None:
            known = _DESCRIPTIONS.setdefault(self.connection, {})
        key = (executed[0], result.nfields)
        columns = known.get(key)
        if columns is None:
            columns = super().description
            if columns is None:
                return None
            known[key] = columns
        return list(columns)
