"""Calendar arithmetic the standard library lacks."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` shifted by whole calendar months, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_months_monotonic(moment: datetime, months: int) -> datetime:
    """``moment`` shifted by whole calendar months; when the target month is too short for the day
    (Jan 31 + 1), the end of the month's last day rather than the same time on it.

    Unlike :func:`add_months`, never earlier for a later ``moment``: points earned on 29 January at
    07:00 do not expire before those earned on 28 January at 20:00.
    """
    shifted = add_months(moment, months)
    if shifted.day == moment.day:
        return shifted
    return shifted.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def next_month_day(after: datetime, month_day: str) -> datetime:
    """The first ``MM-DD`` (at the same time of day) strictly after ``after``; Feb 29 falls on Feb 28."""
    month, day = (int(part) for part in month_day.split("-"))
    for year in (after.year, after.year + 1):
        candidate = after.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: next year's date is always later")


def as_date(value: Any) -> date:
    """A day as both databases answer it: a ``date`` from PostgreSQL, ``YYYY-MM-DD`` text from SQLite
    for a computed day."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
