"""Posting points to the ledger: the only code that changes a balance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.errors import InsufficientPoints, InvalidOperation, NotFound
from loyalty.events import PointsDebited, PointsEarned
from loyalty.ledger.models import ENTRY_KINDS, LedgerEntry
from loyalty.members.models import Member


@dataclass(frozen=True)
class Posting:
    """What a posting did: the balance after it, its entry (None for zero points) and the member row
    values asked for with ``returning``."""

    balance: int
    entry: LedgerEntry | None
    row: Row[Any]


def post(
    session: Session,
    *,
    member_id: int,
    points: int,
    kind: str,
    reason: str,
    now: datetime,
    source: tuple[str, str] | None = None,
    actor: str | None = None,
    require_funds: bool = False,
    also: Mapping[str, ColumnElement[Any] | Any] | None = None,
    returning: Sequence[str] = (),
) -> Posting:
    """Change a member's balance by ``points`` and append the matching ledger entry.

    The balance moves in one atomic ``UPDATE … SET points_balance = points_balance + :points``; with
    ``require_funds`` a debit only applies ``WHERE points_balance >= :cost`` and raises
    :class:`InsufficientPoints` otherwise. ``also`` adds other assignments to the same statement (the
    purchase counters), ``returning`` reads other columns back from it. Zero points update the row but
    write no entry.
    """
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    stmt = (
        update(Member)
        .where(Member.id == member_id)
        .values(points_balance=Member.points_balance + points, **(also or {}))
        .returning(Member.points_balance, *(getattr(Member, name) for name in returning))
    )
    if require_funds and points < 0:
        stmt = stmt.where(Member.points_balance >= -points)
    row = session.execute(stmt, execution_options={"synchronize_session": False}).one_or_none()
    if row is None:
        if session.get(Member, member_id) is None:
            raise NotFound(f"member {member_id} does not exist", field="member_id")
        raise InsufficientPoints(f"the member has fewer than {-points} points", field="points")
    balance = row[0]
    if points == 0:
        return Posting(balance=balance, entry=None, row=row)
    entry = LedgerEntry(
        member_id=member_id,
        kind=kind,
        points=points,
        balance_after=balance,
        reason=reason,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        actor=actor,
        created_at=now,
    )
    session.add(entry)
    event_type = PointsEarned if points > 0 else PointsDebited
    outbox.record(
        session,
        event_type(
            occurred_at=now, member_id=member_id, points=points, balance=balance, reason=reason
        ),
    )
    return Posting(balance=balance, entry=entry, row=row)


def adjust_points(
    session: Session, *, member_id: int, points: int, reason: str, actor: str, now: datetime
) -> Posting:
    """Credit or debit a member by hand (back office), with a mandatory reason; may go negative."""
    if points == 0:
        raise InvalidOperation("an adjustment must change the balance", field="points")
    if not reason.strip():
        raise InvalidOperation("an adjustment needs a reason", field="reason")
    posting = post(
        session, member_id=member_id, points=points, kind="adjust", reason=reason.strip(), now=now, actor=actor
    )
    session.flush()
    return posting


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    #: Pass as ``before`` to get the next (older) page; None on the last page.
    next_before: int | None


def list_entries(session: Session, member_id: int, *, limit: int, before: int | None = None) -> LedgerPage:
    """A member's ledger, newest first, ``limit`` entries older than entry ``before``."""
    stmt = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
    if before is not None:
        stmt = stmt.where(LedgerEntry.id < before)
    entries = list(session.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(limit + 1)))
    has_more = len(entries) > limit
    entries = entries[:limit]
    return LedgerPage(entries=entries, next_before=entries[-1].id if has_more else None)


def members_out_of_balance(session: Session) -> list[tuple[int, int, int]]:
    """Members whose cached balance differs from the sum of their entries: ``(id, balance, sum)``.

    The ledger's invariant is that this list is always empty; ``loyalty check-ledger`` and the tests
    run it.
    """
    sums = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.points).label("total"))
        .group_by(LedgerEntry.member_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    stmt = (
        select(Member.id, Member.points_balance, total)
        .outerjoin(sums, sums.c.member_id == Member.id)
        .where(Member.points_balance != total)
        .order_by(Member.id)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(stmt)]
