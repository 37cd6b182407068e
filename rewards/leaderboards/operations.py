"""Leaderboard use cases: count points as they are credited, read a board with ranks, opt in, configure.

Scores are kept per metric, period and scope by the handler of ``PointsEarned``, in the transaction of
the credit: one ``INSERT … ON CONFLICT DO UPDATE SET points = points + :points`` for the week, the
month and all time, among all members and in the purchase's store; the points a return takes back
leave the scores they were counted in (:func:`uncount_returned_points`). A board is read from the partial
index ``ix_leaderboard_scores_ranking`` (listed members only, points descending): the top N is its
first N entries and a member's rank is one plus the count of entries with more points.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, literal, select, update
from sqlalchemy.orm import Session

from loyalty.consumers import Delivered
from loyalty.db import table_of, upsert_many
from loyalty.engagement.operations import period_bounds
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.events import PointsDebited, PointsEarned
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.receipts.models import Purchase
from rewards.leaderboards.models import PERIODS, Leaderboard, LeaderboardProfile, LeaderboardScore

#: The ledger kinds a ``points`` board counts, when the credit is qualifying (purchases, engagement,
#: quizzes): manual adjustments, prizes and points given back are not earned by playing the program.
COUNTED_KINDS = ("earn", "bonus")
ALL = "all"
#: Letters, digits, spaces, ``_`` and ``-``, starting and ending with a letter or a digit: no ``@`` and
#: no ``.``, so no email address (nor web address) can be a display name.
DISPLAY_NAME = re.compile(r"[^\W_](?:[\w -]*[^\W_])?")
#: A run of this many digits looks like a phone or card number.
DIGIT_RUN = re.compile(r"\d{6}")


@dataclass(frozen=True)
class Standing:
    rank: int
    display_name: str
    points: int


@dataclass(frozen=True)
class OwnStanding:
    """A member's own line: their rank among the listed members (as if listed, when they are not);
    None without points in the period."""

    rank: int | None
    points: int
    listed: bool


@dataclass(frozen=True)
class BoardView:
    leaderboard: Leaderboard
    period: str
    period_key: str
    #: The period's bounds, in UTC; None for all time.
    starts_at: datetime | None
    ends_at: datetime | None
    store: str | None
    entries: list[Standing]
    me: OwnStanding | None


def period_key(moment: datetime, period: str, timezone: str) -> str:
    """``all``, the month (``2026-11``) or the ISO week (``2026-W47``) of ``moment`` in ``timezone``."""
    if period == ALL:
        return ALL
    local = moment.astimezone(ZoneInfo(timezone))
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    year, week, _ = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


def scope_key(store: str | None) -> str:
    return ALL if store is None else f"store:{store}"


def count_points(session: Session, event: PointsEarned) -> None:
    """Add a qualifying credit to the member's ``points`` scores: in this week, this month and all
    time (in the program's default time zone), among all members and in the purchase's store."""
    count_all_points(session, [event])


def count_all_points(session: Session, events: Sequence[PointsEarned]) -> None:
    """:func:`count_points` for many credits at once: the credits of one score summed, then one upsert
    of every score they move (the ``leaderboards`` consumer's batch)."""
    timezone = get_settings(session).default_timezone
    sums: dict[tuple[str, str, int], tuple[int, datetime]] = {}
    for event in events:
        if not event.qualifying or event.kind not in COUNTED_KINDS or event.points <= 0:
            continue
        scopes = [ALL] if event.store_code is None else [ALL, scope_key(event.store_code)]
        for period in PERIODS:
            for scope in scopes:
                key = (period_key(event.occurred_at, period, timezone), scope, event.member_id)
                points, at = sums.get(key, (0, event.occurred_at))
                sums[key] = (points + event.points, max(at, event.occurred_at))
    rows = [
        {"period_key": key, "scope": scope, "member_id": member_id, "points": points, "updated_at": at}
        for (key, scope, member_id), (points, at) in sorted(sums.items())
    ]
    upsert_many(session, table_of(LeaderboardScore), rows, conflict=_add_points, computed=_listed)


def apply_points(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
    """The ``leaderboards`` consumer: the batch's credits in one upsert, then its return debits."""
    count_all_points(session, [d.event for d in batch if isinstance(d.event, PointsEarned)])
    for delivered in batch:
        if isinstance(delivered.event, PointsDebited):
            uncount_returned_points(session, delivered.event)


def _listed(fields: Mapping[str, ColumnElement[Any]]) -> dict[str, ColumnElement[Any]]:
    """A new score's metric, and whether its member is listed, read in the insert itself."""
    listed = select(LeaderboardProfile.opted_in).where(LeaderboardProfile.member_id == fields["member_id"])
    return {"metric": literal("points"), "is_listed": func.coalesce(listed.scalar_subquery(), False)}


def _add_points(stmt: Any) -> Any:
    """``ON CONFLICT DO UPDATE SET points = points + excluded.points``."""
    table = table_of(LeaderboardScore)
    return stmt.on_conflict_do_update(
        index_elements=["metric", "period_key", "scope", "member_id"],
        set_={"points": table.c.points + stmt.excluded.points, "updated_at": stmt.excluded.updated_at},
    )


def uncount_returned_points(session: Session, event: PointsDebited) -> None:
    """Take the points a return reversed out of the scores the purchase's credits went into.

    A purchase is credited once, or twice when part of it waited for its return window: the points
    reversed so far are matched against those credits oldest first, so each return takes its share out
    of the periods (and the store) where it was counted, never out of the week of the return.
    """
    if event.kind != "reverse" or event.source_type != "purchase" or event.source_id is None:
        return
    of_purchase = (
        LedgerEntry.member_id == event.member_id,
        LedgerEntry.source_type == "purchase",
        LedgerEntry.source_id == event.source_id,
    )
    credits = session.execute(
        select(LedgerEntry.created_at, LedgerEntry.points)
        .where(*of_purchase, LedgerEntry.kind == "earn", LedgerEntry.is_qualifying.is_(True))
        .order_by(LedgerEntry.id)
    ).all()
    # The reversal's own entry is flushed by this query: the sum includes it.
    reversed_total = -int(session.scalar(select(func.sum(LedgerEntry.points)).where(*of_purchase, LedgerEntry.kind == "reverse")) or 0)
    store = session.scalar(select(Purchase.store_code).where(Purchase.id == int(event.source_id)))
    timezone = get_settings(session).default_timezone
    start, end, counted = reversed_total + event.points, reversed_total, 0
    for credited_at, points in credits:
        share = min(end, counted + points) - max(start, counted)
        counted += points
        if share > 0:
            _subtract(session, event.member_id, credited_at, store, share, timezone)


def _subtract(session: Session, member_id: int, counted_at: datetime, store: str | None, points: int, timezone: str) -> None:
    scopes = [ALL] if store is None else [ALL, scope_key(store)]
    session.execute(
        update(LeaderboardScore)
        .where(
            LeaderboardScore.metric == "points",
            LeaderboardScore.member_id == member_id,
            LeaderboardScore.period_key.in_([period_key(counted_at, period, timezone) for period in PERIODS]),
            LeaderboardScore.scope.in_(scopes),
        )
        .values(points=LeaderboardScore.points - points),
        execution_options={"synchronize_session": False},
    )


def read_board(
    session: Session,
    key: str,
    *,
    period: str | None,
    store: str | None,
    limit: int,
    now: datetime,
    member_id: int | None = None,
) -> BoardView:
    """The top ``limit`` listed members of a board for the current ``period`` (the board's first by
    default), ranked 1, 2, 2, 4 on ties, and ``member_id``'s own line (even outside the top). A store
    board needs ``store``."""
    board = session.scalar(select(Leaderboard).where(Leaderboard.key == key, Leaderboard.is_active.is_(True)))
    if board is None:
        raise NotFound(f"no leaderboard has the key {key!r}", field="key")
    period = period or board.periods[0]
    if period not in board.periods:
        raise InvalidOperation(f"this leaderboard is kept by {', '.join(board.periods)}", field="period")
    if (board.scope == "store") != (store is not None):
        wanted = "needs a store" if store is None else "is for all members: it takes no store"
        raise InvalidOperation(f"this leaderboard {wanted}", field="store")
    timezone = get_settings(session).default_timezone
    current = period_key(now, period, timezone)
    where = (
        LeaderboardScore.metric == board.metric,
        LeaderboardScore.period_key == current,
        LeaderboardScore.scope == scope_key(store),
    )
    # The top rows first, their display names then: only ``limit`` profiles are read.
    top = (
        select(LeaderboardScore.member_id, LeaderboardScore.points)
        .where(*where, LeaderboardScore.is_listed)
        .order_by(LeaderboardScore.points.desc(), LeaderboardScore.member_id)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(top.c.points, LeaderboardProfile.display_name)
        .join(LeaderboardProfile, LeaderboardProfile.member_id == top.c.member_id)
        .order_by(top.c.points.desc(), top.c.member_id)
    ).all()
    entries: list[Standing] = []
    for position, (points, name) in enumerate(rows, start=1):
        rank = entries[-1].rank if entries and entries[-1].points == points else position
        entries.append(Standing(rank=rank, display_name=name, points=points))
    starts_at, ends_at = (None, None) if period == ALL else period_bounds(now, period, timezone)
    return BoardView(
        leaderboard=board,
        period=period,
        period_key=current,
        starts_at=starts_at,
        ends_at=ends_at,
        store=store,
        entries=entries,
        me=None if member_id is None else _own_standing(session, where, member_id),
    )


def _own_standing(session: Session, where: tuple[Any, ...], member_id: int) -> OwnStanding:
    """One lookup on the unique key, and a count over the ranking index of the entries above it."""
    points = session.scalar(select(LeaderboardScore.points).where(*where, LeaderboardScore.member_id == member_id))
    listed = bool(session.scalar(select(LeaderboardProfile.opted_in).where(LeaderboardProfile.member_id == member_id)))
    if points is None:
        return OwnStanding(rank=None, points=0, listed=listed)
    ahead = session.scalar(
        select(func.count())
        .select_from(LeaderboardScore)
        .where(*where, LeaderboardScore.is_listed, LeaderboardScore.points > points)
    )
    return OwnStanding(rank=(ahead or 0) + 1, points=points, listed=listed)


def get_profile(session: Session, member_id: int) -> LeaderboardProfile | None:
    return session.get(LeaderboardProfile, member_id)


def save_profile(
    session: Session, *, member_id: int, display_name: str, opted_in: bool, now: datetime
) -> LeaderboardProfile:
    """Set how a member appears on leaderboards, and list (or unlist) their scores at once.

    The member's row is locked first, as every credit does before counting its points: a credit
    counted at the same time is listed or not consistently with the choice.
    """
    name = check_display_name(display_name)
    if session.scalar(select(Member.id).where(Member.id == member_id).with_for_update()) is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    profile = session.get(LeaderboardProfile, member_id) or LeaderboardProfile(member_id=member_id)
    profile.display_name, profile.opted_in, profile.updated_at = name, opted_in, now
    session.add(profile)
    session.execute(
        update(LeaderboardScore)
        .where(LeaderboardScore.member_id == member_id, LeaderboardScore.is_listed != opted_in)
        .values(is_listed=opted_in),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return profile


def check_display_name(value: str) -> str:
    """The display name, trimmed; 3 to 32 letters, digits, spaces, ``_`` or ``-``, nothing like an email
    address or a phone number."""
    name = " ".join(value.split())
    if not 3 <= len(name) <= 32:
        raise InvalidOperation("a display name has 3 to 32 characters", field="display_name")
    if not DISPLAY_NAME.fullmatch(name):
        raise InvalidOperation(
            "a display name has only letters, digits, spaces, _ and -, and starts and ends with a letter or digit",
            field="display_name",
        )
    if DIGIT_RUN.search(name):
        raise InvalidOperation("a display name cannot hold a number of 6 digits or more", field="display_name")
    return name


def list_boards(session: Session, *, active_only: bool = False) -> list[Leaderboard]:
    stmt = select(Leaderboard).order_by(Leaderboard.key)
    if active_only:
        stmt = stmt.where(Leaderboard.is_active.is_(True))
    return list(session.scalars(stmt))


def save_board(session: Session, fields: dict[str, Any], *, key: str | None = None) -> Leaderboard:
    """Create a leaderboard, or change the one with ``key``; its periods are distinct."""
    if key is None:
        if session.scalar(select(Leaderboard.id).where(Leaderboard.key == fields["key"])) is not None:
            raise Conflict(f"a leaderboard with the key {fields['key']!r} exists already", field="key")
        board = Leaderboard(is_active=True, metric="points")
    else:
        board = _board(session, key)
    periods = fields.get("periods")
    if periods is not None and len(set(periods)) != len(periods):
        raise InvalidOperation("a period is given twice", field="periods")
    for name, value in fields.items():
        setattr(board, name, value)
    session.add(board)
    session.flush()
    return board


def delete_board(session: Session, key: str) -> None:
    """Remove a leaderboard definition; the scores, shared by every board of the metric, stay."""
    session.delete(_board(session, key))
    session.flush()


def _board(session: Session, key: str) -> Leaderboard:
    board = session.scalar(select(Leaderboard).where(Leaderboard.key == key))
    if board is None:
        raise NotFound(f"no leaderboard has the key {key!r}", field="key")
    return board
