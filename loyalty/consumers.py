"""Outbox consumers: the derived reactions, applied after commit, many events at a time (design rule 4).

A request records its events in the outbox and commits; nothing derived runs in its transaction.
The worker process (the scheduler, ``loyalty run-due``) then:

1. **sequences** the committed events (:func:`sequence`): each gets a ``position``, handed out under a
   lock on one row, so positions become visible in increasing order, without gaps, whatever order the
   requests committed in. A member's events keep their order: a member's postings serialise on the
   member's row, so their events commit, and are sequenced, one after the other;
2. runs each **consumer** (:func:`consume`): it reads the next batch of the event types it handles
   after its cursor, applies them, and moves its cursor, in one transaction. Its effects and its
   progress commit together, so each event is applied exactly once per consumer, whatever crashes: a
   worker killed mid-batch leaves the cursor where it was, and the next one applies the whole batch.
   Two workers never run one consumer at once (the cursor row is claimed with ``SKIP LOCKED``);
3. an event that fails is retried alone; if it fails again it becomes a **dead letter** (its
   consumer, event and error, listed by the admin API) and the consumer goes on past it.

Registering a consumer (``notifications/bootstrap.py`` holds them all)::

    Consumer("leaderboards", on=(PointsEarned, PointsDebited), apply=apply_points)

``apply(session, batch, now)`` receives the batch's events in order (each a :class:`Delivered`: the
outbox id, the position and the decoded event) and applies them, ideally with one set-based statement
per table; :func:`each` turns a map of per-event handlers into such a function for reactions whose
rules need each event in turn. A new consumer starts from the oldest event still in the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, Text, UniqueConstraint, delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from loyalty.db import Base, BigIntPK, UTCDateTime, dialect_insert, rowcount, session_scope
from loyalty.events import DomainEvent, event_type
from loyalty.outbox import OutboxEvent

logger = logging.getLogger(__name__)

#: The cursor row whose position is the last one handed out by :func:`sequence`.
SEQUENCER = "~sequencer"


class OutboxCursor(Base):
    """How far a consumer has read the outbox (and, for :data:`SEQUENCER`, the last position handed out)."""

    __tablename__ = "outbox_cursors"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The position of the last event the consumer has applied (or skipped as not its own).
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxDeadLetter(Base):
    """An event a consumer could not apply: it went on past it; an operator reads why here."""

    __tablename__ = "outbox_dead_letters"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("consumer", "event_id", name="uq_outbox_dead_letters_consumer_event"),)


@dataclass(frozen=True)
class Delivered:
    """One committed event handed to a consumer."""

    id: int
    position: int
    event: DomainEvent


#: Applies a batch of events, in order, in the consumer's transaction.
Apply = Callable[[Session, Sequence[Delivered], datetime], None]
#: Applies one event (the in-process handlers' signature).
Handler = Callable[[Session, Any], None]


@dataclass(frozen=True)
class Consumer:
    """A derived reaction run after commit: its name (the cursor's key), the events it reads, and what
    it does with a batch of them."""

    name: str
    on: tuple[type[DomainEvent], ...]
    apply: Apply
    batch_size: int = 500

    @property
    def event_names(self) -> list[str]:
        return sorted({event.name for event in self.on})


def each(handlers: Mapping[type[DomainEvent], Sequence[Handler]]) -> Apply:
    """An :data:`Apply` calling, for each event of the batch in turn, the handlers of its type."""

    def apply(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
        for delivered in batch:
            for handler in handlers.get(type(delivered.event), ()):
                handler(session, delivered.event)

    return apply


def sequence(session: Session, *, now: datetime, limit: int = 1000) -> int:
    """Give the next ``limit`` committed, unsequenced events their positions; returns how many.

    The sequencer's row is locked until commit: a second worker waits, then reads the events the
    first one left, so positions are handed out and committed in increasing order.
    """
    _ensure_cursor(session, SEQUENCER, start=select(func.coalesce(func.max(OutboxEvent.position), 0)).scalar_subquery())
    top = session.execute(
        select(OutboxCursor.position).where(OutboxCursor.consumer == SEQUENCER).with_for_update()
    ).scalar_one()
    ids = session.scalars(
        select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id).limit(limit)
    ).all()
    if not ids:
        return 0
    session.execute(
        update(OutboxEvent),
        [{"id": id_, "position": top + n, "published_at": now} for n, id_ in enumerate(ids, start=1)],
    )
    _move(session, SEQUENCER, top + len(ids), now)
    return len(ids)


def consume(session: Session, consumer: Consumer, *, now: datetime) -> int:
    """Apply the consumer's next batch and move its cursor, in the session's transaction; returns how
    many events it read (0 when it is caught up, or when another worker holds it)."""
    _ensure_cursor(session, consumer.name, start=0)
    cursor = session.execute(
        select(OutboxCursor.position).where(OutboxCursor.consumer == consumer.name).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if cursor is None:
        return 0
    top = _sequenced(session)
    rows = session.execute(
        select(OutboxEvent.id, OutboxEvent.position, OutboxEvent.event_type, OutboxEvent.payload)
        .where(
            OutboxEvent.position > cursor,
            OutboxEvent.position <= top,
            OutboxEvent.event_type.in_(consumer.event_names),
        )
        .order_by(OutboxEvent.position)
        .limit(consumer.batch_size)
    ).all()
    batch = [Delivered(row.id, row.position, event_type(row.event_type).from_payload(row.payload)) for row in rows]
    if batch:
        _apply(session, consumer, batch, now)
    reached = top if len(batch) < consumer.batch_size else batch[-1].position
    if reached != cursor:
        _move(session, consumer.name, reached, now)
    return len(batch)


def _apply(session: Session, consumer: Consumer, batch: list[Delivered], now: datetime) -> None:
    """The whole batch at once; if it fails, each event alone, the failing ones to the dead letters."""
    try:
        with session.begin_nested():
            consumer.apply(session, batch, now)
        return
    except OperationalError:
        raise  # the database's trouble (deadlock, lost connection), not the event's: the next pass retries
    except Exception:
        logger.warning("consumer %s: a batch of %d failed, applying its events one by one", consumer.name, len(batch))
    for delivered in batch:
        try:
            with session.begin_nested():
                consumer.apply(session, [delivered], now)
        except OperationalError:
            raise
        except Exception as error:
            logger.exception("consumer %s: event %d to the dead letters", consumer.name, delivered.id)
            session.add(
                OutboxDeadLetter(
                    consumer=consumer.name,
                    event_id=delivered.id,
                    event_type=delivered.event.name,
                    member_id=delivered.event.member_id,
                    error=f"{type(error).__name__}: {error}"[:2000],
                    failed_at=now,
                )
            )
            session.flush()


def run_consumers(sessions: sessionmaker[Session], consumers: Sequence[Consumer], *, clock: Callable[[], datetime]) -> int:
    """Sequence and consume, one transaction per batch, until every consumer has caught up (consumers
    record events that other consumers read); returns how many events the consumers applied."""
    applied = 0
    while True:
        with session_scope(sessions) as session:
            sequenced = sequence(session, now=clock())
        read = 0
        for consumer in consumers:
            with session_scope(sessions) as session:
                read += consume(session, consumer, now=clock())
        applied += read
        if not (sequenced or read):
            return applied


@dataclass(frozen=True)
class Lag:
    """How far behind a consumer is: the events waiting for it and the age of the oldest."""

    consumer: str
    position: int
    backlog: int
    oldest_at: datetime | None
    age_seconds: float


def lags(session: Session, consumers: Sequence[Consumer], *, now: datetime) -> list[Lag]:
    """Each consumer's backlog: its events not yet applied, sequenced or not."""
    cursors: dict[str, int] = {name: position for name, position in session.execute(select(OutboxCursor.consumer, OutboxCursor.position))}
    waiting = {
        name: (count, oldest)
        for name, count, oldest in session.execute(
            select(OutboxEvent.event_type, func.count(), func.min(OutboxEvent.occurred_at))
            .where(OutboxEvent.published_at.is_(None))
            .group_by(OutboxEvent.event_type)
        )
    }
    found = []
    for consumer in consumers:
        position = cursors.get(consumer.name, 0)
        count, oldest = session.execute(
            select(func.count(), func.min(OutboxEvent.occurred_at)).where(
                OutboxEvent.position > position, OutboxEvent.event_type.in_(consumer.event_names)
            )
        ).one()
        for name in consumer.event_names:
            more, first = waiting.get(name, (0, None))
            count += more
            oldest = first if oldest is None or (first is not None and first < oldest) else oldest
        age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        found.append(Lag(consumer.name, position, count, oldest, age))
    return found


def dead_letters(session: Session, *, consumer: str | None = None, limit: int = 100) -> list[OutboxDeadLetter]:
    """The latest dead letters, newest first, of one consumer or of all."""
    query = select(OutboxDeadLetter).order_by(OutboxDeadLetter.id.desc()).limit(limit)
    if consumer is not None:
        query = query.where(OutboxDeadLetter.consumer == consumer)
    return list(session.scalars(query))


def purge_consumed(session: Session, consumers: Sequence[Consumer], *, before: datetime, limit: int = 5000) -> int:
    """Delete up to ``limit`` events sequenced before ``before`` that every consumer has passed;
    returns how many. Oldest first, along the positions."""
    cursors: dict[str, int] = {name: position for name, position in session.execute(select(OutboxCursor.consumer, OutboxCursor.position))}
    passed = min((cursors.get(consumer.name, 0) for consumer in consumers), default=cursors.get(SEQUENCER, 0))
    ids = (
        select(OutboxEvent.id)
        .where(OutboxEvent.position <= passed, OutboxEvent.published_at < before)
        .order_by(OutboxEvent.position)
        .limit(limit)
    )
    return rowcount(
        session.execute(
            delete(OutboxEvent).where(OutboxEvent.id.in_(ids.scalar_subquery())),
            execution_options={"synchronize_session": False},
        )
    )


def _sequenced(session: Session) -> int:
    return session.scalar(select(OutboxCursor.position).where(OutboxCursor.consumer == SEQUENCER)) or 0


def _ensure_cursor(session: Session, name: str, *, start: Any) -> None:
    table = OutboxCursor.__table__
    session.execute(
        dialect_insert(session)(table).values(consumer=name, position=start).on_conflict_do_nothing(index_elements=["consumer"])
    )


def _move(session: Session, name: str, position: int, now: datetime) -> None:
    session.execute(
        update(OutboxCursor).where(OutboxCursor.consumer == name).values(position=position, updated_at=now),
        execution_options={"synchronize_session": False},
    )
