"""The audit log: who changed what, when, with the values before and after.

An entry point that acts for a person or an admin client names the actor with :func:`act_as` on its
session. From then on every flush of that session writes an :class:`AuditEntry` for each row of a
watched class (:func:`watch`) it inserts, updates or deletes, with the changed columns before and
after, through the same connection: the entries commit with the change or roll back with it.
Changes made with bulk ``UPDATE`` statements, which the session cannot see, are recorded by their
operation with :func:`record`. Sessions without an actor (tills, members, the scheduler) write none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import NO_VALUE

from loyalty.db import Base, BigIntPK, UTCDateTime

#: Columns whose values never enter the log.
SECRET_COLUMNS = frozenset({"password_hash", "secret_hash", "secret", "previous_secret"})
REDACTED = "(secret)"
_CONTEXT = "loyalty.audit.context"
_WATCHED: set[type] = set()


class AuditEntry(Base):
    """One change of one row, by one actor. Entries are only ever inserted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: ``staff:<email>``, ``client:<client_id>`` or ``cli``.
    actor: Mapped[str] = mapped_column(String(300))
    #: ``create``, ``update``, ``delete``, or the verb of an operation (``advance``).
    action: Mapped[str] = mapped_column(String(32))
    #: The table of the row changed, and its primary key.
    entity: Mapped[str] = mapped_column(String(64))
    entity_key: Mapped[str] = mapped_column(String(200))
    #: The changed columns' values before (NULL for a creation) and after (NULL for a deletion).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_audit_entries_occurred_at", "occurred_at", "id"),
        Index("ix_audit_entries_entity", "entity", "entity_key", "id"),
        Index("ix_audit_entries_actor", "actor", "id"),
    )


@dataclass(frozen=True)
class AuditContext:
    actor: str
    now: datetime


def watch(*classes: type) -> None:
    """Audit the rows of ``classes`` in sessions that act for someone."""
    _WATCHED.update(classes)


def act_as(session: Session, actor: str, *, now: datetime) -> None:
    """From now on, the changes this session flushes are ``actor``'s, dated ``now``."""
    session.info[_CONTEXT] = AuditContext(actor, now)


def actor_of(session: Session) -> str | None:
    context: AuditContext | None = session.info.get(_CONTEXT)
    return context.actor if context else None


def record(
    session: Session,
    *,
    action: str,
    entity: str,
    entity_key: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Log a change the session cannot see (a bulk ``UPDATE``), if the session acts for someone."""
    context: AuditContext | None = session.info.get(_CONTEXT)
    if context is None:
        return
    session.add(_entry(context, action, entity, str(entity_key), before, after))


def _entry(
    context: AuditContext,
    action: str,
    entity: str,
    entity_key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    return AuditEntry(
        occurred_at=context.now,
        actor=context.actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        before=_plain(before),
        after=_plain(after),
    )


@event.listens_for(Session, "after_flush")
def _log_flushed_changes(session: Session, _flush_context: object) -> None:
    """After the statements of a flush, before its history is reset: one entry per watched row."""
    context: AuditContext | None = session.info.get(_CONTEXT)
    if context is None or not _WATCHED:
        return
    rows = []
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for instance in objects:
            if type(instance) not in _WATCHED:
                continue
            change = _change(instance, action)
            if change is not None:
                before, after = change
                rows.append(_row(context, action, instance, before, after))
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def _change(instance: object, action: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None] | None:
    state = inspect(instance)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for column in state.mapper.column_attrs:
        name = column.key
        history = state.attrs[name].history
        if action == "create":
            after[name] = _value(name, state.dict.get(name))
        elif action == "delete":
            before[name] = _value(name, state.dict.get(name))
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old is NO_VALUE or old != new:
                before[name] = None if old is NO_VALUE else _value(name, old)
                after[name] = _value(name, new)
    if action == "create":
        return None, after
    if action == "delete":
        return before, None
    return (before, after) if after else None


def _row(
    context: AuditContext,
    action: str,
    instance: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    state = inspect(instance)
    key = state.identity or tuple(getattr(instance, column.key) for column in state.mapper.primary_key)
    return {
        "occurred_at": context.now,
        "actor": context.actor,
        "action": action,
        "entity": state.mapper.local_table.name,
        "entity_key": "/".join(str(part) for part in key),
        "before": _plain(before),
        "after": _plain(after),
    }


def _value(name: str, value: Any) -> Any:
    return REDACTED if name in SECRET_COLUMNS and value is not None else value


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Values as JSON holds them: dates, times and decimals as strings."""
    if values is None:
        return None
    return json.loads(json.dumps(values, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return str(value)
