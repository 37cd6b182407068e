"""SQL expressions that read the same on SQLite and PostgreSQL (the dashboard's and the scenarios' days)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[date]):
    """The UTC day of a :class:`~loyalty.db.UTCDateTime` column, on both databases, read as a ``date``
    (SQLite stores naive UTC: ``date()`` of it; PostgreSQL's ``timestamptz`` is taken to UTC whatever
    the session's time zone)."""

    type = Date()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _sqlite_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _postgresql_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # date_trunc is cheaper than to_char on the rows; the day is made text once per group.
    return f"date_trunc('day', ({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"
