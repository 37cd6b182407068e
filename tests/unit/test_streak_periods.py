"""The period arithmetic of streaks, checked against the calendar of each time zone: local days, and
ISO weeks from the local Monday, whatever the offset and across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewards.streaks.periods import live_length, period_number, period_start

#: Zones with DST (Paris, New York, Sydney south of the equator, Lord Howe's half hour), odd offsets
#: (Kathmandu +05:45, Chatham +12:45/+13:45), the extremes (Kiritimati +14, Pago Pago -11) and UTC.
ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]

zones = st.sampled_from(ZONES)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC))
local_days = st.dates(min_value=date(2000, 1, 3), max_value=date(2099, 12, 28))
local_times = st.times()


def local(day: date, at: time, zone: str) -> datetime:
    """The instant of a local wall-clock time (the first one when a DST change repeats it)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@given(moment=instants, zone=zones)
def test_a_day_is_the_local_calendar_day(moment, zone):
    number = period_number(moment, zone, "day")
    assert period_start(number, "day") == moment.astimezone(ZoneInfo(zone)).date()


@given(moment=instants, zone=zones)
def test_a_week_starts_on_the_local_monday_on_or_before_the_local_day(moment, zone):
    day = moment.astimezone(ZoneInfo(zone)).date()
    monday = period_start(period_number(moment, zone, "week"), "week")
    assert monday.weekday() == 0
    assert monday <= day < monday + timedelta(days=7)


@given(first=instants, second=instants, zone=zones)
def test_two_instants_share_a_week_exactly_when_they_share_an_iso_week(first, second, zone):
    first_week = first.astimezone(ZoneInfo(zone)).date().isocalendar()[:2]
    second_week = second.astimezone(ZoneInfo(zone)).date().isocalendar()[:2]
    same = period_number(first, zone, "week") == period_number(second, zone, "week")
    assert same == (first_week == second_week)


@given(first=instants, second=instants, zone=zones)
def test_week_numbers_differ_by_the_weeks_between_their_iso_mondays(first, second, zone):
    def iso_monday(moment: datetime) -> date:
        year, week, _ = moment.astimezone(ZoneInfo(zone)).date().isocalendar()
        return date.fromisocalendar(year, week, 1)

    weeks_between = (iso_monday(second) - iso_monday(first)).days // 7
    assert period_number(second, zone, "week") - period_number(first, zone, "week") == weeks_between


@given(day=local_days, before=local_times, after=local_times, zone=zones)
def test_consecutive_local_days_have_consecutive_numbers_whatever_the_hours(day, before, after, zone):
    today, tomorrow = local(day, before, zone), local(day + timedelta(days=1), after, zone)
    assert period_number(tomorrow, zone, "day") - period_number(today, zone, "day") == 1


@given(day=local_days, zone=zones)
def test_sunday_night_and_monday_morning_are_consecutive_weeks(day, zone):
    sunday = day + timedelta(days=6 - day.weekday())
    last_minute = local(sunday, time(23, 59), zone)
    first_minute = local(sunday + timedelta(days=1), time(0, 0), zone)
    assert period_number(first_minute, zone, "week") - period_number(last_minute, zone, "week") == 1
    assert period_number(last_minute, zone, "week") == period_number(
        local(sunday - timedelta(days=6), time(0, 0), zone), zone, "week"
    )


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # Paris springs forward on Sunday 29 March 2026 (02:00 → 03:00) and falls back on 25 October.
        ("Europe/Paris", "2026-03-29T00:30:00+00:00", "2026-03-29T21:30:00+00:00"),
        ("Europe/Paris", "2026-10-25T00:30:00+00:00", "2026-10-25T22:30:00+00:00"),
        # Sydney's DST ends on Sunday 5 April 2026 (03:00 → 02:00).
        ("Australia/Sydney", "2026-04-04T13:30:00+00:00", "2026-04-05T13:30:00+00:00"),
    ],
)
def test_a_dst_sunday_is_one_day_of_the_week_that_ends_at_local_midnight(zone, before, after):
    """00:30 and 23:30 local of a 23- or 25-hour Sunday are one day; 23:30 is still in the week, and
    an hour later (local Monday) the next week has begun."""
    start, end = datetime.fromisoformat(before), datetime.fromisoformat(after)
    assert period_number(start, zone, "day") == period_number(end, zone, "day")
    assert period_number(start, zone, "week") == period_number(end, zone, "week")
    assert period_number(end + timedelta(hours=1), zone, "week") == period_number(end, zone, "week") + 1


@given(current=st.integers(1, 500), last=st.integers(0, 10_000), gap=st.integers(-1, 10))
def test_a_run_lives_while_its_last_period_is_this_one_or_the_one_before(current, last, gap):
    assert live_length(current, last, last + gap) == (current if gap <= 1 else 0)
