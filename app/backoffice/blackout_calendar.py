"""The blackout calendar: months drawn as weeks of days, each day marked with the blackout periods
that cover part of it (UTC days, as the periods are stored)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from notifications.pressure.models import BlackoutPeriod


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    #: The names of the blackout periods covering part of the day.
    blackouts: tuple[str, ...]


@dataclass(frozen=True)
class Month:
    title: str
    weeks: list[list[Day]]


def months(first: date, count: int, periods: Sequence[BlackoutPeriod]) -> list[Month]:
    """``count`` months from the month of ``first``, weeks starting on Monday."""
    result = []
    year, month = first.year, first.month
    for _ in range(count):
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
        result.append(
            Month(
                f"{calendar.month_name[month]} {year}",
                [[Day(day, day.month == month, _covering(day, periods)) for day in week] for week in weeks],
            )
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _covering(day: date, periods: Sequence[BlackoutPeriod]) -> tuple[str, ...]:
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    return tuple(period.name for period in periods if period.starts_at < end and period.ends_at > start)
