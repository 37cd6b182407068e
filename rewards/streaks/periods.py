"""Period arithmetic of streaks: the days and ISO weeks (from Monday) of a time zone, numbered so that
consecutive periods have consecutive numbers.

Periods are calendar days of the member's own time zone, so a day of 23 or 25 hours (a DST change)
is still one day, and a week always starts on the local Monday at midnight.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

#: 0001-01-01, day number 1 of ``date.toordinal``, was a Monday: weeks are counted from it.
DAYS_PER_WEEK = 7


def period_number(moment: datetime, timezone: str, unit: str) -> int:
    """The number of the day (``day``) or ISO week (``week``) that holds ``moment`` in ``timezone``."""
    day = moment.astimezone(ZoneInfo(timezone)).date().toordinal()
    return day if unit == "day" else (day - 1) // DAYS_PER_WEEK


def period_start(number: int, unit: str) -> date:
    """The first local day of period ``number``: the day itself, or the Monday of the week."""
    return date.fromordinal(number if unit == "day" else number * DAYS_PER_WEEK + 1)


def live_length(current: int, last_period: int, now_period: int) -> int:
    """A run's length as seen in period ``now_period``: it lives while its last active period is this
    one or the one before (the member can still extend it); after a period with no activity it is
    broken, 0."""
    return current if now_period - last_period <= 1 else 0
