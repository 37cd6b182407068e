"""Outbox consumers: the derived reactions, applied after commit, many events at a time (design rule 4).

A request records its events in the outbox and commits; nothing derived runs in its transaction.
The worker process (the scheduler, ``loyalty run-due``) then:

1. **sequences** the committed events (:func:`sequence`): each gets a ``position``, handed out under a
   lock on one row, so positions become visible in increasing order, without gaps, whatever order the
   requests committed in. A member's events keep their order: a member's postings serialise on the
   member's row, so their events commit, and are sequenced, one after the other;
2. runs the **consumers** (:func:`consume`), all in one transaction per round: each takes the next
   batch of the event types it handles after its cursor (the events read and decoded once for all the
   consumers at the same position), applies it in a savepoint, and its cursor moves. Effects and
   progress commit together, so each event is applied exactly once per consumer, whatever crashes: a
   worker killed mid-round leaves the cursors where they were, and the next one applies the whole
   batches. Two workers never run one consumer at once (the cursor rows are claimed with ``SKIP
   LOCKED``). The database's own failures (a deadlock, a lost connection) roll the round back for
   all, to be run again by the next poll; an idle poll is two reads;
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
from functools import cached_property
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, Text, UniqueConstraint, bindparam, delete, func, literal, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from loyalty.db import Base, BigIntPK, UTCDateTime, dialect_insert, rowcount, session_scope, table_of
from loyalty.events import DomainEvent, event_type
from loyalty.outbox import OutboxEvent

logger = logging.getLogger(__name__)

#: The cursor row whose position is the last one handed out by :func:`sequence`.
SEQUENCER = "~sequencer"
#: Events given their positions in one transaction.
SEQUENCE_BATCH = 1000


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
        return sorted(self.wanted)

    @cached_property
    def wanted(self) -> frozenset[str]:
        """The names of the event types it reads."""
        return frozenset(event.name for event in self.on)


def each(handlers: Mapping[type[DomainEvent], Sequence[Handler]]) -> Apply:
    """An :data:`Apply` calling, for each event of the batch in turn, the handlers of its type."""

    def apply(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
        for delivered in batch:
            for handler in handlers.get(type(delivered.event), ()):
                handler(session, delivered.event)

    return apply


def sequence(session: Session, *, now: datetime, limit: int = SEQUENCE_BATCH) -> int:
    """Give the next ``limit`` committed, unsequenced events their positions; returns how many.

    The sequencer's row is locked until commit: a second worker waits, then reads the events the
    first one left, so positions are handed out and committed in increasing order. When no event
    waits, nothing is locked (the worker's idle poll is this one read).
    """
    waiting = select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id).limit(limit)
    if session.execute(waiting.limit(1)).first() is None:
        return 0
    top = _lock_sequencer(session)
    # Under the lock, the events still waiting (another worker may have taken some), numbered in one statement.
    ranked = waiting.add_columns(func.row_number().over(order_by=OutboxEvent.id).label("rank")).subquery()
    sequenced = rowcount(
        session.execute(
            update(OutboxEvent).where(OutboxEvent.id == ranked.c.id).values(position=literal(top, BigInteger) + ranked.c.rank, published_at=now),
            execution_options={"synchronize_session": False},
        )
    )
    if sequenced:
        _move(session, [(SEQUENCER, top + sequenced)], now)
    return sequenced


def consume(session: Session, consumers: Sequence[Consumer], *, now: datetime) -> int:
    """Apply each consumer's next batch and move its cursor, all in the session's transaction; returns
    how many events they read (0 when they have caught up, or when another worker holds them).

    The cursors are read at once, and those behind the sequencer claimed together (``SKIP LOCKED``).
    The events after a cursor are read and decoded once for all the consumers standing there (in a
    steady flow, all of them), as many as the smallest batch among them: each takes those of its
    types, and all of them move to the same position, so that they stand together again at the next
    round, however long the backlog. A consumer's batch runs in a savepoint (:func:`_apply`), so one
    consumer's failing events stay its own.
    """
    positions = {name: position for name, position in session.execute(select(OutboxCursor.consumer, OutboxCursor.position))}
    top = positions.get(SEQUENCER, 0)
    behind = sorted(consumer.name for consumer in consumers if positions.get(consumer.name, 0) < top)
    if not behind:
        return 0
    if new := [name for name in behind if name not in positions]:
        insert = dialect_insert(session)(OutboxCursor.__table__).on_conflict_do_nothing(index_elements=["consumer"])
        session.execute(insert, [{"consumer": name, "position": 0} for name in new])
    claim = (
        select(OutboxCursor.consumer, OutboxCursor.position)
        .where(OutboxCursor.consumer.in_(behind), OutboxCursor.position < top)
        .order_by(OutboxCursor.consumer)
        .with_for_update(skip_locked=True)
    )
    claimed = {name: position for name, position in session.execute(claim)}
    reads: dict[int, tuple[list[Delivered], int]] = {}
    decoded: dict[int, Delivered] = {}
    moves: list[tuple[str, int]] = []
    applied = 0
    for consumer in consumers:
        cursor = claimed.get(consumer.name)
        if cursor is None:
            continue
        if cursor not in reads:
            standing = [other for other in consumers if claimed.get(other.name) == cursor]
            names = sorted({name for other in standing for name in other.event_names})
            reads[cursor] = _read(session, after=cursor, top=top, names=names, limit=min(other.batch_size for other in standing), decoded=decoded)
        events, reached = reads[cursor]
        wanted = consumer.wanted
        batch = [delivered for delivered in events if delivered.event.name in wanted]
        if batch:
            _apply(session, consumer, batch, now)
        moves.append((consumer.name, reached))
        applied += len(batch)
    _move(session, moves, now)
    return applied


def _read(
    session: Session, *, after: int, top: int, names: list[str], limit: int, decoded: dict[int, Delivered]
) -> tuple[list[Delivered], int]:
    """The events of ``names`` after position ``after`` (at most ``limit``, none after ``top``), each
    decoded once per round; and the position up to which they are all the events of those types."""
    rows = session.execute(
        select(OutboxEvent.id, OutboxEvent.position, OutboxEvent.event_type, OutboxEvent.payload)
        .where(OutboxEvent.position > after, OutboxEvent.position <= top, OutboxEvent.event_type.in_(names))
        .order_by(OutboxEvent.position)
        .limit(limit)
    ).all()
    events = []
    for id_, position, name, payload in rows:
        delivered = decoded.get(id_)
        if delivered is None:
            delivered = decoded[id_] = Delivered(id_, position, event_type(name).from_payload(payload))
        events.append(delivered)
    return events, (events[-1].position if len(events) == limit else top)


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


def run_consumers(
    sessions: sessionmaker[Session], consumers: Sequence[Consumer], *, clock: Callable[[], datetime], settle: bool = True
) -> int:
    """Sequence the events waiting and consume them, one transaction per batch, until every consumer
    has caught up; returns how many events the consumers applied.

    ``settle``: then sequence again and go on while there is anything new (consumers record events
    that other consumers read), until nothing is left: what the tests and ``loyalty run-due`` want.
    Without it (the worker's poll) the run stops at the events committed when it started, and those
    committed meanwhile, the consumers' own included, wait for the next poll: under a steady flow
    the consumers then take a poll's worth of events at a time, instead of chasing each commit with
    a round of a few events whose fixed cost (cursors, a savepoint per consumer, the commit) is most
    of their work. With no ``consumers`` there is nothing to apply, and nothing is sequenced.
    """
    if not consumers:
        return 0
    applied = 0
    while True:
        sequenced = _sequence_waiting(sessions, clock)
        while True:
            with session_scope(sessions) as session:
                read = consume(session, consumers, now=clock())
            applied += read
            if not read:
                break
        if not (settle and sequenced):
            return applied


def _sequence_waiting(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> int:
    """Sequence every event waiting now, :data:`SEQUENCE_BATCH` per transaction; returns how many."""
    total = 0
    while True:
        with session_scope(sessions) as session:
            sequenced = sequence(session, now=clock(), limit=SEQUENCE_BATCH)
        total += sequenced
        if sequenced < SEQUENCE_BATCH:
            return total


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


def _lock_sequencer(session: Session) -> int:
    """The last position handed out, its row locked until commit (created at the first event)."""
    locked = select(OutboxCursor.position).where(OutboxCursor.consumer == SEQUENCER).with_for_update()
    top = session.execute(locked).scalar_one_or_none()
    if top is None:
        start = select(func.coalesce(func.max(OutboxEvent.position), 0)).scalar_subquery()
        insert = dialect_insert(session)(OutboxCursor.__table__).values(consumer=SEQUENCER, position=start)
        session.execute(insert.on_conflict_do_nothing(index_elements=["consumer"]))
        top = session.execute(locked).scalar_one()
    return top


def _move(session: Session, moves: Sequence[tuple[str, int]], now: datetime) -> None:
    """Each ``(cursor, position)`` moved there, in one statement sent for them all."""
    if not moves:
        return
    table = table_of(OutboxCursor)
    session.execute(
        update(table).where(table.c.consumer == bindparam("cursor")).values(position=bindparam("reached"), updated_at=now),
        [{"cursor": name, "reached": position} for name, position in moves],
    )
