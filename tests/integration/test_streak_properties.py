"""Random activity histories across time zones, recorded one transaction at a time as events record
them, checked against runs counted from the members' local calendars.

Each example empties the database, defines a daily or weekly streak, enrols a member in a random time
zone and records purchases at random instants (moving forward, hours to weeks apart, over DST changes
and year ends). The reference groups the local days (or the ISO weeks, with ``isocalendar``) of the
activities into runs of consecutive periods: the stored run is the last one, the best the longest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from loyalty.db import session_scope
from loyalty.enrolment.operations import NewMember, enroll_member
from loyalty.members.models import Member
from rewards.activity import PURCHASE, Activity
from rewards.streaks.models import MemberStreak
from rewards.streaks.operations import member_streaks, record_activity, save_streak
from tests.conftest import reset_database
from tests.unit.test_streak_periods import ZONES

START = datetime(2026, 10, 20, 0, 0, tzinfo=UTC)


def local_period(moment: datetime, zone: str, unit: str) -> date:
    """The local day, or the Monday of the ISO week, from the calendar."""
    day = moment.astimezone(ZoneInfo(zone)).date()
    if unit == "day":
        return day
    year, week, _ = day.isocalendar()
    return date.fromisocalendar(year, week, 1)


def reference_runs(periods: list[date], unit: str) -> list[int]:
    """The lengths of the runs of consecutive periods, oldest first."""
    step = timedelta(days=1 if unit == "day" else 7)
    ordered = sorted(set(periods))
    runs = [1]
    for before, period in pairwise(ordered):
        if period - before == step:
            runs[-1] += 1
        else:
            runs.append(1)
    return runs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    unit=st.sampled_from(["day", "week"]),
    gaps=st.lists(st.integers(min_value=0, max_value=24 * 20), min_size=1, max_size=15),
    reading=st.integers(min_value=0, max_value=24 * 20),
)
def test_the_stored_run_is_the_last_run_of_the_local_calendar(app, clock, zone, unit, gaps, reading):
    reset_database(app, clock)
    sessions = app.extensions["loyalty.sessions"]
    with session_scope(sessions) as session:
        streak = save_streak(session, {"code": "active", "name": "Active", "period": unit})
        member = enroll_member(session, NewMember("m@example.com", "M", "M", timezone=zone), now=START, source="test")
        streak_id, member_id = streak.id, member.id
    moments, at = [], START
    for hours in gaps:
        at += timedelta(hours=hours, minutes=17)
        moments.append(at)
        with session_scope(sessions) as session:
            record_activity(session, Activity(member_id=member_id, at=at, kind=PURCHASE))

    runs = reference_runs([local_period(moment, zone, unit) for moment in moments], unit)
    with sessions() as session:
        stored = session.scalars(select(MemberStreak).where(MemberStreak.member_id == member_id)).one()
        assert (stored.streak_id, stored.current, stored.best) == (streak_id, runs[-1], max(runs))
        now = at + timedelta(hours=reading)
        (standing,) = member_streaks(session, session.get_one(Member, member_id), now=now)
    last, today = local_period(at, zone, unit), local_period(now, zone, unit)
    alive = (today - last) <= timedelta(days=1 if unit == "day" else 7)
    assert standing.last_active_period == last
    assert (standing.current, standing.best) == (runs[-1] if alive else 0, max(runs))
