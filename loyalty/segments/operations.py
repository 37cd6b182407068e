"""Segment use cases: define segments; count, page through and stream their members."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, text
from sqlalchemy.orm import Session

from loyalty.errors import Conflict, NotFound
from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.segments.compiler import Context, compile_definition
from loyalty.segments.models import Segment
from loyalty.segments.windows import windows_as_of
from loyalty.tiers.operations import window_start

#: The member columns a page or an export of a segment carries.
MEMBER_COLUMNS = (
    Member.id,
    Member.external_id,
    Member.email,
    Member.first_name,
    Member.last_name,
    Member.card_number,
    Member.tier_code,
    Member.points_balance,
    Member.enrolled_at,
)
#: The memory PostgreSQL may give a count's grouping of purchase history (``SET LOCAL``, this
#: transaction only): at the server's default 4 MB, grouping a few hundred thousand members'
#: monthly rows spills to disk.
COUNT_WORK_MEM = "64MB"


def context(session: Session, now: datetime) -> Context:
    """What a definition is measured from at ``now``: the tier window, the rolling windows' anchor."""
    return Context(now=now, qualifying_since=window_start(get_settings(session), now), windows_as_of=windows_as_of(session))


def members_condition(session: Session, definition: Any, *, now: datetime) -> ColumnElement[bool]:
    """The SQL condition on ``members`` selecting a definition's members at ``now``."""
    return compile_definition(definition, context(session, now))


def member_segments(session: Session, member_id: int, keys: frozenset[str], *, now: datetime) -> frozenset[str]:
    """Those of the segments ``keys`` the member is in now: no query when ``keys`` is empty (no
    promotion is for a segment), else one per segment."""
    found = set()
    for segment in session.scalars(select(Segment).where(Segment.key.in_(keys))) if keys else ():
        condition = members_condition(session, segment.definition, now=now)
        if session.scalar(select(Member.id).where(Member.id == member_id, condition)) is not None:
            found.add(segment.key)
    return frozenset(found)


def list_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.key)))


def get_segment(session: Session, key: str) -> Segment:
    found = session.scalar(select(Segment).where(Segment.key == key))
    if found is None:
        raise NotFound(f"no segment is called {key!r}", field="key")
    return found


def save_segment(session: Session, fields: dict[str, Any], *, now: datetime, key: str | None = None) -> Segment:
    """Create a segment, or change the one with ``key``; its definition is compiled (checked) first."""
    if "definition" in fields:
        members_condition(session, fields["definition"], now=now)
    if key is None:
        if session.scalar(select(Segment.id).where(Segment.key == fields["key"])) is not None:
            raise Conflict(f"a segment called {fields['key']!r} exists already", field="key")
        segment = Segment(created_at=now)
    else:
        segment = get_segment(session, key)
    for name, value in fields.items():
        setattr(segment, name, value)
    segment.updated_at = now
    session.add(segment)
    session.flush()
    return segment


def count_members(session: Session, definition: dict[str, Any], *, now: datetime) -> int:
    """How many members a segment's definition holds at ``now``: one ``SELECT count(*)``."""
    condition = members_condition(session, definition, now=now)
    make_room_for_count(session)
    return session.scalar(select(func.count()).select_from(Member).where(condition)) or 0


def make_room_for_count(session: Session) -> None:
    """Let PostgreSQL group a count's history in memory, for this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{COUNT_WORK_MEM}'"))


def member_page(
    session: Session, definition: dict[str, Any], *, now: datetime, after_id: int = 0, limit: int = 100
) -> list[Row[Any]]:
    """Up to ``limit`` members of a segment with an id above ``after_id``, by id (a keyset page)."""
    condition = members_condition(session, definition, now=now)
    query = select(*MEMBER_COLUMNS).where(condition, Member.id > after_id).order_by(Member.id).limit(limit)
    return list(session.execute(query))


def iter_members(
    session: Session, definition: dict[str, Any], *, now: datetime, batch: int = 1000
) -> Iterator[Row[Any]]:
    """Every member of a segment, by id, read a keyset page at a time: constant memory."""
    after_id = 0
    while True:
        page = member_page(session, definition, now=now, after_id=after_id, limit=batch)
        yield from page
        if len(page) < batch:
            return
        after_id = page[-1].id
