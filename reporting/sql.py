"""SQL the reports share across SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[str]):
    """The UTC day of a datetime column, on both databases (SQLite stores naive UTC: ``YYYY-MM-DD`` text;
    PostgreSQL's ``timestamptz`` is taken to UTC whatever the session's time zone: a ``date``)."""

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _sqlite_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _postgresql_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # date_trunc is cheaper than to_char on the rows; the day is made text once per group.
    return f"date_trunc('day', ({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"
