"""Posting points to the ledger: the only code that changes a balance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, Date, Integer, Row, Update, bindparam, case, cast, event, func, literal, select, update
from sqlalchemy.orm import Session, SessionTransaction

from loyalty import outbox
from loyalty.errors import InsufficientPoints, InvalidOperation, NotFound
from loyalty.events import PointsDebited, PointsEarned
from loyalty.dates import add_months_monotonic, as_date
from loyalty.ledger.models import ENTRY_KINDS, LedgerEntry, PointLot, QualifyingMonth
from loyalty.program.operations import get_settings
from loyalty.members.models import MEMBERS, Member
from loyalty.db import table_of


#: The balance each member was left with by the last posting of a session, as its reactions see it.
_BALANCES = "loyalty.balances"


@dataclass(frozen=True)
class Posting:
    """What a posting did: the member's balance once it and the reactions to it are done, its entry
    (None for zero points; its ``balance_after`` is the balance right after it) and the member row
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
    qualifying: bool = False,
    require_funds: bool = False,
    also: Mapping[str, ColumnElement[Any] | Any] | None = None,
    returning: Sequence[str] = (),
    store_code: str | None = None,
) -> Posting:
    """Change a member's balance by ``points`` and append the matching ledger entry.

    The balance moves in one atomic ``UPDATE … SET points_balance = points_balance + :points``; with
    ``require_funds`` a debit only applies ``WHERE points_balance >= :cost`` and raises
    :class:`InsufficientPoints` otherwise. ``qualifying`` points (purchases, engagement and their
    reversals) also move the member's lifetime points, in the same statement. ``also`` adds other
    assignments to it (the purchase counters), ``returning`` reads other columns back from it. Zero
    points update the row but write no entry. ``store_code`` names the store of the purchase that earned
    a credit, for ``PointsEarned`` (store leaderboards).

    A credit opens a lot of points (expiring after the program's expiry period); a debit consumes
    lots oldest first. The update locks the member's row, so lots are never consumed concurrently.
    """
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    row = move_balance(
        session, Member.id == member_id, points,
        qualifying=qualifying, also=also, returning=returning,
        at_least=-points if require_funds and points < 0 else None,
    )  # fmt: skip
    if row is None:
        _refuse(session, member_id, points)
    if points == 0:
        return Posting(balance=row.points_balance, entry=None, row=row)
    return append_entry(
        session, row, member_id=member_id, points=points, kind=kind, reason=reason, now=now,
        source=source, actor=actor, qualifying=qualifying, store_code=store_code,
    )  # fmt: skip


def move_balance(
    session: Session,
    which: ColumnElement[bool],
    points: int | ColumnElement[Any],
    *,
    qualifying: bool = False,
    also: Mapping[str, ColumnElement[Any] | Any] | None = None,
    returning: Sequence[str] = (),
    at_least: int | None = None,
) -> Row[Any] | None:
    """The one statement that moves a balance: ``UPDATE members SET points_balance = points_balance +
    :points … WHERE which [AND points_balance >= :at_least] RETURNING …``; None when no row matched.

    ``points`` may be a SQL expression of the member's columns (a purchase's points by tier); the row
    returned has the balance, lifetime points and tier after the update, and the ``returning`` columns.
    Only :func:`post` and a caller that then calls :func:`append_entry` use it (or that moves the balance
    back in the same transaction: an engagement's credit, which locks the member, over a limit).
    """
    stmt = balance_update(which, points, qualifying=qualifying, also=also, returning=returning)
    if at_least is not None:
        stmt = stmt.where(MEMBERS.c.points_balance >= at_least)
    return session.execute(stmt, execution_options={"synchronize_session": False}).one_or_none()


def balance_update(
    which: ColumnElement[bool],
    points: int | ColumnElement[Any],
    *,
    qualifying: bool = False,
    also: Mapping[str, ColumnElement[Any] | Any] | None = None,
    returning: Sequence[str] = (),
) -> Update:
    """The statement of :func:`move_balance`, not executed: a caller that moves balances often builds
    it once with bound parameters and executes it with their values (no statement built per call)."""
    values: dict[str, Any] = {"points_balance": MEMBERS.c.points_balance + points, **(also or {})}
    if qualifying:
        values["lifetime_points"] = MEMBERS.c.lifetime_points + points
    return (
        update(MEMBERS)
        .where(which)
        .values(**values)
        .returning(
            MEMBERS.c.points_balance,
            MEMBERS.c.lifetime_points,
            MEMBERS.c.tier_code,
            *(MEMBERS.c[name] for name in returning),
        )
    )


def _refuse(session: Session, member_id: int, points: int) -> NoReturn:
    """Why a balance did not move: the member does not exist, or cannot afford the debit."""
    if session.get(Member, member_id) is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    raise InsufficientPoints(f"the member has fewer than {-points} points", field="points")


def append_entry(
    session: Session,
    row: Row[Any],
    *,
    member_id: int,
    points: int,
    kind: str,
    reason: str,
    now: datetime,
    source: tuple[str, str] | None = None,
    actor: str | None = None,
    qualifying: bool = False,
    store_code: str | None = None,
) -> Posting:
    """The ledger entry of a balance :func:`move_balance` moved by ``points`` (not zero), its lot (a
    credit) or the lots it consumes (a debit), and its event, whose in-transaction reactions run now."""
    entry = LedgerEntry(
        member_id=member_id,
        kind=kind,
        points=points,
        balance_after=row.points_balance,
        reason=reason,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        is_qualifying=qualifying,
        actor=actor,
        created_at=now,
    )
    balance = row.points_balance
    before = balance - points
    if points < 0:  # before the entry is added: the flush that precedes it then has nothing to write
        _consume_lots(session, member_id, max(before, 0) - max(balance, 0))
    session.add(entry)
    event: PointsEarned | PointsDebited
    if points > 0:
        _open_lot(session, entry, max(balance, 0) - max(before, 0), now)
        event = _earned(entry, row, store_code)
    else:
        event = _debited(entry)
    return Posting(balance=_publish(session, event, balance), entry=entry, row=row)


def _earned(entry: LedgerEntry, row: Row[Any], store_code: str | None) -> PointsEarned:
    """The event of a credit: the balance, lifetime points and tier after it (``row``)."""
    return PointsEarned(
        occurred_at=entry.created_at,
        member_id=entry.member_id,
        points=entry.points,
        balance=row.points_balance,
        kind=entry.kind,
        reason=entry.reason,
        qualifying=entry.is_qualifying,
        lifetime_points=row.lifetime_points,
        tier=row.tier_code,
        store_code=store_code,
    )


def _debited(entry: LedgerEntry) -> PointsDebited:
    """The event of a debit: the balance after it and what it was for."""
    return PointsDebited(
        occurred_at=entry.created_at,
        member_id=entry.member_id,
        points=entry.points,
        balance=entry.balance_after,
        reason=entry.reason,
        kind=entry.kind,
        source_type=entry.source_type,
        source_id=entry.source_id,
    )


def _publish(session: Session, event: PointsEarned | PointsDebited, balance: int) -> int:
    """Record the posting's event; the member's balance once its in-transaction reactions are done.

    A reaction that moves the balance posts too (a threshold's or a new tier's reward), and every
    posting leaves the balance it made in ``session.info``: the last one is the balance now, with no
    query (the member's row is locked by the first, so nothing else moves it meanwhile), unless a
    rollback forgot it (:func:`_forget_balances`)."""
    session.info.setdefault(_BALANCES, {})[event.member_id] = balance
    outbox.record(session, event)
    known: int | None = session.info.get(_BALANCES, {}).get(event.member_id)
    if known is not None:
        return known
    return session.execute(select(Member.points_balance).where(Member.id == event.member_id)).scalar_one()


@event.listens_for(Session, "after_soft_rollback")
def _forget_balances(session: Session, _transaction: SessionTransaction) -> None:
    """A rollback (a savepoint's too: a threshold's reward out of stock) may undo postings: the balances
    they left are forgotten, and read again by the posting whose reactions ran them."""
    session.info.pop(_BALANCES, None)


def _open_lot(session: Session, entry: LedgerEntry, points: int, now: datetime) -> None:
    """A lot for the part of a credit that raised the balance above zero (a debt is repaid first)."""
    if points <= 0:
        return
    months = get_settings(session).points_expiry_months
    session.add(
        PointLot(
            member_id=entry.member_id,
            entry=entry,
            earned_at=now,
            expires_at=add_months_monotonic(now, months) if months else None,
            points=points,
            remaining=points,
        )
    )


def _consume_lots(session: Session, member_id: int, points: int) -> None:
    """Take ``points`` from the member's lots, the soonest to expire first (never-expiring ones last),
    in one statement (:data:`CONSUME_LOTS`); the lots added in this transaction (a credit's) count."""
    if points <= 0:
        return
    session.flush()
    taken = session.connection().execute(CONSUME_LOTS, {"owner": member_id, "wanted": points}).first()
    if taken is None:
        raise AssertionError(f"member {member_id}'s lots hold less than their balance")


def _consume_lots_statement() -> Update:
    lots = table_of(PointLot)
    order = (lots.c.expires_at.is_(None), lots.c.expires_at, lots.c.id)
    held = (
        select(
            lots.c.id,
            lots.c.remaining,
            func.sum(lots.c.remaining).over(order_by=order).label("through"),
            func.sum(lots.c.remaining).over().label("total"),
        )
        .where(lots.c.member_id == bindparam("owner"), lots.c.remaining > 0)
        .subquery()
    )
    wanted = bindparam("wanted", type_=Integer)
    before = held.c.through - held.c.remaining
    take = case((held.c.through <= wanted, held.c.remaining), else_=wanted - before)
    return (
        update(lots)
        .where(lots.c.id == held.c.id, before < wanted, held.c.total >= wanted)
        .values(remaining=lots.c.remaining - take)
        .returning(lots.c.id)
    )


#: The statement of :func:`_consume_lots`, built once (values: ``owner``, the member's id, and ``wanted``,
#: the points to take): each of the member's lots, in the order they are consumed, gives what the lots
#: before it did not cover, up to all it holds; no row moves (and none comes back) when the lots hold
#: fewer than ``wanted`` in all.
CONSUME_LOTS = _consume_lots_statement()


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


def members_with_lots_out_of_step(session: Session) -> list[tuple[int, int, int]]:
    """Members whose point lots do not hold ``max(balance, 0)`` points: ``(id, balance, points in lots)``.

    The lots' invariant, checked beside the ledger's by ``loyalty check-ledger`` and the tests.
    """
    lots = (
        select(PointLot.member_id, func.sum(PointLot.remaining).label("held")).group_by(PointLot.member_id).subquery()
    )
    held = func.coalesce(lots.c.held, 0)
    spendable = case((Member.points_balance > 0, Member.points_balance), else_=0)
    stmt = (
        select(Member.id, Member.points_balance, held)
        .outerjoin(lots, lots.c.member_id == Member.id)
        .where(held != spendable)
        .order_by(Member.id)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(stmt)]


def qualifying_months_out_of_step(session: Session) -> list[tuple[int, date, int, int]]:
    """Months whose :class:`QualifyingMonth` row differs from the sum of the member's qualifying entries
    of that month: ``(member id, month, points kept, points in the ledger)``.

    The read model's invariant (the trigger keeps it), checked by ``loyalty check-ledger`` and the tests.
    """
    month = _entry_month(session)
    sums = (
        select(LedgerEntry.member_id, month.label("month"), func.sum(LedgerEntry.points).label("total"))
        .where(LedgerEntry.is_qualifying.is_(True))
        .group_by(LedgerEntry.member_id, month)
        .subquery()
    )
    kept = QualifyingMonth.__table__
    ledger_side = (
        select(sums.c.member_id, sums.c.month, func.coalesce(kept.c.points, 0), sums.c.total)
        .outerjoin(kept, (kept.c.member_id == sums.c.member_id) & (kept.c.month == sums.c.month))
        .where(func.coalesce(kept.c.points, 0) != sums.c.total)
    )
    kept_side = (
        select(kept.c.member_id, kept.c.month, kept.c.points, literal(0))
        .outerjoin(sums, (kept.c.member_id == sums.c.member_id) & (kept.c.month == sums.c.month))
        .where(sums.c.member_id.is_(None), kept.c.points != 0)
    )
    rows = [*session.execute(ledger_side), *session.execute(kept_side)]
    return sorted((row[0], as_date(row[1]), int(row[2]), int(row[3])) for row in rows)


def _entry_month(session: Session) -> ColumnElement[Any]:
    """The first day of an entry's month (UTC), as the trigger that keeps the months computes it."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", func.timezone("UTC", LedgerEntry.created_at)), Date)
    return func.date(LedgerEntry.created_at, "start of month")
