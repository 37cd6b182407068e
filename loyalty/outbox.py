"""The outbox table and the in-transaction handlers.

:func:`record` is the only way an operation publishes an event: it adds an outbox row to the current
session (committed or rolled back with everything else) and calls the handlers subscribed to that
event type, synchronously, in the same transaction. Those are only the reactions the answer depends
on (the tier upgrade, the threshold reward); everything derived reads the outbox after commit
(:mod:`loyalty.consumers`). ``notifications/bootstrap.py`` says which handler reacts to what.

The rows recorded since the last flush are written when the session flushes, all in one statement
(:func:`loyalty.db.insert_many`: ``INSERT … SELECT FROM unnest(…)`` on PostgreSQL, one ``executemany``
on SQLite), in the order recorded, which their ids, and so the consumers' order, follow. Nothing reads
their ids back: the ORM would, and on SQLite, which cannot tie the ids a multi-row ``INSERT …
RETURNING`` returns to its rows, it would send one statement per row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, BigInteger, Index, String, inspect, text
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime, insert_many, table_of
from loyalty.events import DomainEvent

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Session, Any], None]

_handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

#: ``session.info``: the rows :func:`record` added that no flush has written yet, in the order recorded.
_UNWRITTEN = "outbox.unwritten"
#: ``session.info``: the rows written in the session's current transaction.
_WRITTEN = "outbox.written"
#: The columns :func:`record` fills (the others are the database's: the id, the position, the publication).
_RECORDED = ("event_type", "member_id", "payload", "occurred_at")


class OutboxEvent(Base):
    """One recorded domain event, waiting for the workers that publish it after commit."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    #: Not indexed: events are read by position, never by member.
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set by the worker that sequenced the event (gave it its position); NULL while it waits.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The event's place in commit order, read by the consumers' cursors (:mod:`loyalty.consumers`).
    position: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ux_outbox_events_position", "position", unique=True),
        Index(
            "ix_outbox_events_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )


def subscribe(event_type: type[E], handler: Callable[[Session, E], None]) -> None:
    """Run ``handler`` in the same transaction each time ``event_type`` is recorded (once, however
    often it is subscribed)."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def unsubscribe(event_type: type[DomainEvent], handler: Handler) -> None:
    """Remove a handler registered with :func:`subscribe`."""
    _handlers[event_type].remove(handler)


def record(session: Session, event: DomainEvent) -> int:
    """Write ``event`` to the outbox and run its in-process handlers, in the caller's transaction;
    returns how many handlers ran."""
    row = OutboxEvent(
        event_type=event.name,
        member_id=event.member_id,
        payload=event.payload(),
        occurred_at=event.occurred_at,
    )
    session.add(row)
    session.info.setdefault(_UNWRITTEN, []).append(row)
    handlers = _handlers.get(type(event), ())
    for handler in handlers:
        handler(session, event)
    return len(handlers)


def record_all(session: Session, events: Iterable[DomainEvent]) -> None:
    """Record several events, in order."""
    for event in events:
        record(session, event)


def written(session: Session) -> list[OutboxEvent]:
    """The rows :func:`record` wrote in the session's current (or just committed) transaction, in order."""
    return list(session.info.get(_WRITTEN, ()))


@listens_for(Session, "before_flush")
def _write_recorded(session: Session, _flush_context: object, _objects: object) -> None:
    """Write the rows recorded since the last flush that are still in the session (not dropped with a
    savepoint), in one statement, and take them out of the session so that the flush does not insert
    them again, one by one."""
    rows = [row for row in session.info.pop(_UNWRITTEN, ()) if inspect(row).pending]
    if not rows:
        return
    insert_many(session, table_of(OutboxEvent), [{name: getattr(row, name) for name in _RECORDED} for row in rows])
    for row in rows:
        session.expunge(row)
    session.info.setdefault(_WRITTEN, []).extend(rows)


@listens_for(Session, "after_transaction_create")
def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    """A new transaction has written nothing yet."""
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)
