"""The blackout calendar marks the days a blackout period covers, whole or in part."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.backoffice.blackout_calendar import months
from notifications.pressure.models import BlackoutPeriod

SALE = BlackoutPeriod(
    name="Winter sale", starts_at=datetime(2027, 1, 6, 8, tzinfo=UTC), ends_at=datetime(2027, 1, 9, tzinfo=UTC)
)


def test_the_days_a_period_touches_are_marked_and_no_other() -> None:
    december, january = months(date(2026, 12, 15), 2, [SALE])

    assert (december.title, january.title) == ("December 2026", "January 2027")
    marked = [day.day for week in january.weeks for day in week if day.blackouts]
    assert marked == [date(2027, 1, 6), date(2027, 1, 7), date(2027, 1, 8)]
    assert not any(day.blackouts for week in december.weeks for day in week if day.in_month)


def test_weeks_start_on_monday_and_days_of_other_months_are_told_apart() -> None:
    (january,) = months(date(2027, 1, 1), 1, [])

    assert all(len(week) == 7 and week[0].day.weekday() == 0 for week in january.weeks)
    first_week = january.weeks[0]
    assert [day.in_month for day in first_week] == [False, False, False, False, True, True, True]
