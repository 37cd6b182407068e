"""Streak use cases: extend a member's runs on a qualifying activity, read them, configure streaks.

A run moves in one statement, ``INSERT … ON CONFLICT DO UPDATE … WHERE last_period < :period
RETURNING``: the first activity of a new period extends the run (the period right after the last one)
or starts a new one (a later period), and any other activity of the same period changes nothing. A
broken run is not written when it breaks: it is read as broken (``periods.live_length``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, case, select
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import dialect_insert, one_of, table_of, upsert_many
from loyalty.engagement.models import EngagementAction
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.members.models import Member
from loyalty.program.cache import cached, touch
from rewards.activity import PURCHASE, Activity
from rewards.badges.operations import counted_by_a_badge
from rewards.events import StreakExtended
from rewards.streaks.models import MemberStreak, Streak
from rewards.streaks.periods import live_length, period_number, period_start


@dataclass(frozen=True)
class StreakView:
    """A streak as read from the configuration (a plain value shared between requests)."""

    id: int
    code: str
    name: str
    period: str
    counts_purchases: bool
    actions: tuple[str, ...]
    is_active: bool

    def qualifies(self, activity: Activity) -> bool:
        if activity.kind == PURCHASE:
            return self.counts_purchases
        return activity.action in self.actions


@dataclass(frozen=True)
class StreakStanding:
    streak: StreakView
    #: The live run: 0 once a period passed with no activity.
    current: int
    best: int
    #: The first day of the last period with an activity, in the member's time zone.
    last_active_period: date | None


def all_streaks(session: Session) -> tuple[StreakView, ...]:
    return cached(session, "streaks", _read_streaks)


def _read_streaks(session: Session) -> tuple[StreakView, ...]:
    return tuple(
        StreakView(
            id=streak.id,
            code=streak.code,
            name=streak.name,
            period=streak.period,
            counts_purchases=streak.counts_purchases,
            actions=tuple(streak.actions),
            is_active=streak.is_active,
        )
        for streak in session.scalars(select(Streak).order_by(Streak.code))
    )


def record_activity(session: Session, activity: Activity) -> None:
    """Extend the member's runs of the active streaks the activity qualifies for; ``StreakExtended``
    for each run that grew or started."""
    streaks = [streak for streak in all_streaks(session) if streak.is_active and streak.qualifies(activity)]
    if not streaks:
        return
    # An engagement has the member's row loaded already (locked): no query then.
    timezone = activity.timezone or session.get_one(Member, activity.member_id).timezone
    table = table_of(MemberStreak)
    upsert = _run_upsert(dialect_insert(session)).returning(table.c.current, table.c.best)
    for streak in streaks:
        period = period_number(activity.at, timezone, streak.period)
        values = {"member_id": activity.member_id, "streak_id": streak.id, "last_period": period}
        run = session.execute(upsert, [{**values, "current": 1, "best": 1, "updated_at": activity.at}]).one_or_none()
        if run is not None:
            outbox.record(
                session,
                StreakExtended(
                    occurred_at=activity.at,
                    member_id=activity.member_id,
                    streak_code=streak.code,
                    length=run.current,
                    best=run.best,
                ),
            )


class RunsBatch:
    """The streak runs of a batch of activities, extended in memory in the activities' order and
    written at the end in one upsert (the ``gamification`` consumer, :mod:`rewards.gamification`).

    Loads the runs of the batch's members (one query); an activity extends the runs it qualifies
    for as :func:`record_activity` does, and records ``StreakExtended`` for each run that grew or
    started. The batch must be the only writer of its members' runs until :meth:`write` (the
    consumer's cursor lock makes it so).
    """

    def __init__(self, session: Session, member_ids: Iterable[int]) -> None:
        self.session = session
        self.streaks = [streak for streak in all_streaks(session) if streak.is_active]
        members = sorted(set(member_ids))
        self.runs: dict[tuple[int, int], tuple[int, int, int]] = {}
        if self.streaks and members:
            runs = select(MemberStreak.member_id, MemberStreak.streak_id, MemberStreak.current, MemberStreak.best, MemberStreak.last_period)
            runs = runs.where(one_of(session, MemberStreak.member_id, members))
            for member_id, streak_id, current, best, last_period in session.execute(runs):
                self.runs[(member_id, streak_id)] = (current, best, last_period)
        #: The runs :meth:`write` writes, with the instant of their last activity.
        self.moved: dict[tuple[int, int], datetime] = {}

    def record_activity(self, activity: Activity, timezone: str) -> None:
        """As :func:`record_activity`, the member's time zone given."""
        for streak in self.streaks:
            if not streak.qualifies(activity):
                continue
            key = (activity.member_id, streak.id)
            period = period_number(activity.at, timezone, streak.period)
            run = self.runs.get(key)
            if run is None:
                current, best = 1, 1
            elif run[2] < period:
                follows = run[2] == period - 1
                current = run[0] + 1 if follows else 1
                best = max(run[1], current)
            else:
                continue
            self.runs[key], self.moved[key] = (current, best, period), activity.at
            outbox.record(
                self.session,
                StreakExtended(occurred_at=activity.at, member_id=activity.member_id, streak_code=streak.code, length=current, best=best),
            )

    def write(self) -> None:
        """The runs that moved, in one upsert (a run's later period only, as :func:`record_activity`)."""
        if not self.moved:
            return
        rows = [
            {"member_id": member_id, "streak_id": streak_id, "current": current, "best": best, "last_period": period, "updated_at": at}
            for (member_id, streak_id), at in self.moved.items()
            for current, best, period in [self.runs[(member_id, streak_id)]]
        ]
        upsert_many(self.session, table_of(MemberStreak), rows, conflict=_later_period)
        self.moved = {}


def _later_period(stmt: Any) -> Any:
    """Runs already there take the values given where those are of a later period."""
    table = table_of(MemberStreak)
    return stmt.on_conflict_do_update(
        index_elements=["member_id", "streak_id"],
        set_={name: stmt.excluded[name] for name in ("current", "best", "last_period", "updated_at")},
        where=table.c.last_period < stmt.excluded.last_period,
    )


@cache
def _run_upsert(insert: Callable[[Table], Any]) -> Any:
    """Insert a run of 1, or, for an activity of a later period than the run's last, extend it (the
    period right after) or start it again; built once per database, its values given when it runs."""
    table = table_of(MemberStreak)
    stmt = insert(table)
    follows = table.c.last_period == stmt.excluded.last_period - 1
    grown = table.c.current + 1
    return stmt.on_conflict_do_update(
        index_elements=["member_id", "streak_id"],
        set_={
            "current": case((follows, grown), else_=1),
            "best": case((and_(follows, grown > table.c.best), grown), else_=table.c.best),
            "last_period": stmt.excluded.last_period,
            "updated_at": stmt.excluded.updated_at,
        },
        where=table.c.last_period < stmt.excluded.last_period,
    )


def member_streaks(session: Session, member: Member, *, now: datetime) -> list[StreakStanding]:
    """The member's live run and best run on each active streak (and on inactive ones they ran)."""
    runs = {
        run.streak_id: run for run in session.scalars(select(MemberStreak).where(MemberStreak.member_id == member.id))
    }
    standings = []
    for streak in all_streaks(session):
        run = runs.get(streak.id)
        if run is None:
            if streak.is_active:
                standings.append(StreakStanding(streak=streak, current=0, best=0, last_active_period=None))
            continue
        now_period = period_number(now, member.timezone, streak.period)
        standings.append(
            StreakStanding(
                streak=streak,
                current=live_length(run.current, run.last_period, now_period),
                best=run.best,
                last_active_period=period_start(run.last_period, streak.period),
            )
        )
    return standings


# -- Configuration ------------------------------------------------------------------------------------


def list_streaks(session: Session) -> list[Streak]:
    return list(session.scalars(select(Streak).order_by(Streak.code)))


def get_streak(session: Session, code: str) -> Streak:
    streak = session.scalar(select(Streak).where(Streak.code == code))
    if streak is None:
        raise NotFound(f"no streak has the code {code!r}", field="code")
    return streak


def save_streak(session: Session, fields: dict[str, Any], *, code: str | None = None) -> Streak:
    """Create a streak, or change the one with ``code``. It needs a qualifying activity (purchases or
    existing engagement actions); its period cannot change once members have runs."""
    if code is None and session.scalar(select(Streak.id).where(Streak.code == fields["code"])) is not None:
        raise Conflict(f"a streak called {fields['code']!r} exists already", field="code")
    streak = (
        get_streak(session, code) if code is not None else Streak(counts_purchases=True, actions=[], is_active=True)
    )
    if code is not None and "period" in fields and fields["period"] != streak.period and _has_runs(session, streak):
        raise Conflict("members have runs on this streak: its period cannot change", field="period")
    with session.no_autoflush:
        for name, value in fields.items():
            setattr(streak, name, value)
        known = set(session.scalars(select(EngagementAction.key)))
        for index, action in enumerate(streak.actions):
            if action not in known:
                raise InvalidOperation(f"no engagement action is called {action!r}", field=f"actions.{index}")
        if not streak.counts_purchases and not streak.actions:
            raise InvalidOperation("a streak needs purchases or engagement actions to count", field="actions")
    session.add(streak)
    session.flush()
    touch(session)
    return streak


def delete_streak(session: Session, code: str) -> None:
    """Remove a streak nobody has a run on and no badge counts; otherwise deactivate it."""
    streak = get_streak(session, code)
    if _has_runs(session, streak):
        raise Conflict("members have runs on this streak: deactivate it instead", field="code")
    if counted_by_a_badge(session, "streak", code):
        raise Conflict("a badge counts this streak", field="code")
    session.delete(streak)
    session.flush()
    touch(session)


def _has_runs(session: Session, streak: Streak) -> bool:
    return session.scalar(select(MemberStreak.id).where(MemberStreak.streak_id == streak.id).limit(1)) is not None
