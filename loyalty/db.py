"""Declarative base, naming convention and column types shared by every table."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ClauseElement,
    ColumnElement,
    CursorResult,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Result,
    Row,
    Table,
    TypeDecorator,
    UniqueConstraint,
    any_,
    bindparam,
    column,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from loyalty.cursors import DescribedOnceCursor

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Primary keys: 64-bit on PostgreSQL, SQLite's INTEGER rowid alias there (so it auto-increments).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base of every mapped class; constraints get stable names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive UTC
    and given their zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC datetime is expected")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _SQLiteUTCDateTime(sqlite.DATETIME):
    """SQLite's ``DATETIME``, turning an aware datetime into UTC before it drops the offset.

    A datetime bound without a column to give it :class:`UTCDateTime` (a value in ``case()``, a
    ``coalesce()``) is typed as a plain ``DateTime``, which SQLite would store as local wall time:
    ``10:00+01:00`` read back as ``10:00Z``. PostgreSQL converts it; on SQLite this type does.
    """

    def bind_processor(self, dialect: Dialect) -> Any:
        process = super().bind_processor(dialect)

        def to_utc(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return process(value) if process else value

        return to_utc


class FixedPoint(TypeDecorator[Decimal]):
    """An exact decimal with a fixed number of places, stored as a scaled integer.

    SQLite has no exact decimal type; storing ``value * 10**places`` as an integer keeps amounts and
    rates exact on both databases and makes sums cheap.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        self.quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(Decimal(value).quantize(self.quantum, rounding=ROUND_HALF_EVEN).scaleb(self.places))

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).scaleb(-self.places).quantize(self.quantum)


class Money(FixedPoint):
    """An amount of money with two decimals, stored as cents."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(2)


class Rate(FixedPoint):
    """A rate or multiplier with four decimals."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(4)


def table_of(model: type[Base]) -> Table:
    """``model.__table__``, typed as the :class:`Table` it is (declarative annotates it as a ``FromClause``)."""
    return cast(Table, model.__table__)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched: ``Session.execute`` returns a ``CursorResult`` for those
    statements, though it is annotated as returning a ``Result``."""
    return cast(CursorResult[Any], result).rowcount


def violated_unique_columns(error: IntegrityError, table: Table) -> tuple[str, ...] | None:
    """The columns of ``table``'s unique constraint that ``error`` violated, if it is one of them.

    PostgreSQL names the constraint (psycopg's diagnostics); SQLite names the columns in its message.
    """
    orig = error.orig
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    for unique in uniques:
        columns = tuple(col.name for col in unique.columns)
        if constraint is not None and unique.name == constraint:
            return columns
        sqlite_message = "UNIQUE constraint failed: " + ", ".join(f"{table.name}.{col}" for col in columns)
        if constraint is None and sqlite_message in str(orig):
            return columns
    return None


def insert_if_absent(
    session: Session, model: type[Base], values: dict[str, Any], *, key: Sequence[str]
) -> int | None:
    """``INSERT … ON CONFLICT (key) DO NOTHING RETURNING id``: the new row's id, or None if a row
    with the same key exists.

    The unique constraint decides, not a read before the write, so concurrent inserts of one key
    leave exactly one row; on PostgreSQL the losers wait for the winner's commit and then see it.
    Plain values are sent as the parameters of a statement built once per table, key and database.
    """
    table = table_of(model)
    if any(isinstance(value, ClauseElement) for value in values.values()):
        stmt = dialect_insert(session)(table).values(**values).on_conflict_do_nothing(index_elements=list(key))
        return session.execute(stmt.returning(table.c.id)).scalar_one_or_none()
    stmt = _insert_if_absent(dialect_insert(session), table, tuple(key))
    return session.connection().execute(stmt, values).scalar_one_or_none()


@cache
def _insert_if_absent(insert: Any, table: Table, key: tuple[str, ...]) -> Any:
    """``INSERT INTO table … ON CONFLICT (key) DO NOTHING RETURNING id`` in the dialect of ``insert``,
    built once, its values given when executed."""
    return insert(table).on_conflict_do_nothing(index_elements=list(key)).returning(table.c.id)


def insert_many(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (same keys each) in one statement.

    On PostgreSQL, ``INSERT … SELECT FROM unnest(…)`` with one array parameter per column: the
    statement's text is the same whatever the number of rows (psycopg converts a 1,000-row ``VALUES``
    more slowly than the server inserts it), and it is built once per table and columns. Elsewhere, one
    ``executemany``.
    """
    if not rows:
        return
    names = tuple(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        session.connection().execute(insert(table), list(rows))
        return
    session.connection().execute(_insert_unnested(table, names), _arrays(rows))


@cache
def _insert_unnested(table: Table, names: tuple[str, ...]) -> Any:
    """``INSERT INTO table (names) SELECT … FROM unnest(:name, …) WITH ORDINALITY ORDER BY`` it, its
    arrays given when executed: rows are inserted, and given their serial ids, in the arrays' order."""
    rows = _unnest(table, names)
    return insert(table).from_select(list(names), select(*(rows.c[name] for name in names)).order_by(rows.c.array_index))


def upsert_many(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Callable[[Any], Any],
    computed: Callable[[Mapping[str, ColumnElement[Any]]], dict[str, ColumnElement[Any]]] | None = None,
) -> list[Row[Any]]:
    """Insert ``rows`` (same keys each, no two with the same conflict key), ``conflict`` adding its
    ``ON CONFLICT`` clause to the insert (``excluded`` names the row offered; and a ``RETURNING``
    if it wants the rows written: they are returned, in no particular order), ``computed`` the
    columns worked out from a row's fields (given by name). ``conflict`` and ``computed`` are
    module-level functions: the statement is built once for each (database, table, fields) and kept.

    On PostgreSQL one ``INSERT … SELECT FROM unnest(…)`` with one array parameter per column: one
    statement whose text is the same whatever the number of rows, run once by the server, where an
    ``executemany`` sends and runs the statement once per row (and psycopg converts a long
    ``VALUES`` more slowly than the server inserts it). Elsewhere, one ``executemany``. An array
    holds values of one Python type: a float column is given floats, not a mix with ints.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    statement = _upsert(dialect, table, tuple(rows[0]), conflict, computed)
    result = cast(CursorResult[Any], session.execute(statement, _arrays(rows) if dialect == "postgresql" else list(rows)))
    return list(result) if result.returns_rows else []


@cache
def _upsert(
    dialect: str,
    table: Table,
    names: tuple[str, ...],
    conflict: Callable[[Any], Any],
    computed: Callable[[Mapping[str, ColumnElement[Any]]], dict[str, ColumnElement[Any]]] | None,
) -> Any:
    """:func:`upsert_many`'s statement."""
    insert_into = _insert_of(dialect)(table)
    if dialect != "postgresql":
        params: dict[str, ColumnElement[Any]] = {name: bindparam(name, type_=table.c[name].type) for name in names}
        return conflict(insert_into.values({**params, **(computed(params) if computed else {})}))
    unnested = _unnest(table, names)
    fields = {name: unnested.c[name] for name in names}
    values = {**fields, **(computed(fields) if computed else {})}
    return conflict(insert_into.from_select(list(values), select(*values.values())))


def _unnest(table: Table, names: Sequence[str]) -> Any:
    """A derived table ``rows`` of PostgreSQL's ``unnest`` over one array parameter per column
    (:func:`_arrays`), with each row's position in the arrays as ``array_index``."""
    from sqlalchemy.dialects.postgresql import ARRAY

    arrays = [bindparam(name, type_=ARRAY(table.c[name].type)) for name in names]
    columns = (column(name, table.c[name].type) for name in names)
    return func.unnest(*arrays).table_valued(*columns, with_ordinality="array_index").render_derived(name="rows")


def _arrays(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """The parameters of :func:`_unnest`: each column's values, in the rows' order."""
    return {name: [row[name] for row in rows] for name in rows[0]}


def one_of(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``: ``= ANY(array)`` on PostgreSQL, ``IN (…)`` elsewhere.

    The array is one parameter: the statement's text is the same whatever the number of values, so
    psycopg converts it once and the server may keep its plan, where an ``IN`` list is rendered,
    converted and planned anew for each length (binding 5,000 placeholders costs the client some
    30 ms of CPU against 3 ms for the array).
    """
    if session.get_bind().dialect.name != "postgresql":
        return cast(ColumnElement[bool], column.in_(values))
    from sqlalchemy.dialects.postgresql import ARRAY

    return cast(ColumnElement[bool], column == any_(bindparam(None, list(values), type_=ARRAY(column.type))))


def copy_rows(session: Session, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]], *, into: str | None = None) -> None:
    """``COPY`` ``rows`` (values in the order of ``names``) into ``table``, or into the table named
    ``into`` with the same columns (a temporary staging table), on PostgreSQL: psycopg formats the rows
    in C, where the arrays of an ``unnest`` are escaped element by element in Python."""
    from psycopg import sql

    dialect = session.get_bind().dialect
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(into or table.name), sql.SQL(", ").join(sql.Identifier(name) for name in names)
    )
    connection = session.connection().connection.driver_connection
    assert connection is not None  # a live session's connection
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([value if process is None else process(value) for process, value in zip(processors, row)])


def dialect_insert(session: Session) -> Any:
    """The ``insert`` of the session's database, whose statements know ``ON CONFLICT`` (PostgreSQL and
    SQLite share the syntax: ``on_conflict_do_nothing``, ``on_conflict_do_update``)."""
    return _insert_of(session.get_bind().dialect.name)


def _insert_of(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover - only the two supported databases


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20, echo: bool = False) -> Engine:
    """An engine for ``url`` with the settings this project relies on.

    PostgreSQL URLs use psycopg 3, with cursors that describe a statement's result once per connection
    (:mod:`loyalty.cursors`). SQLite gets WAL (readers do not block the writer), enforced foreign
    keys and a busy timeout instead of "database is locked" errors.
    """
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        engine.dialect.colspecs = {**engine.dialect.colspecs, DateTime: _SQLiteUTCDateTime}
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800,
        connect_args={"cursor_factory": DescribedOnceCursor},
    )  # fmt: skip


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a CLI command or a scheduler job: commit at the end, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
