"""Calendar arithmetic the standard library lacks."""

from __future__ import annotations

import calendar
from datetime import datetime


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` shifted by whole calendar months, clamped to the month's last day (Jan 31 + 1 = Feb 28)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_month_day(after: datetime, month_day: str) -> datetime:
    """The first ``MM-DD`` (at the same time of day) strictly after ``after``; Feb 29 falls on Feb 28."""
    month, day = (int(part) for part in month_day.split("-"))
    for year in (after.year, after.year + 1):
        candidate = after.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: next year's date is always later")
