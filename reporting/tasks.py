"""Scheduled reporting work: the dashboard's finished days counted into the roll-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.dates import as_date
from reporting.daily import BATCH_DAYS, first_day, recount
from reporting.models import DashboardDayRun


def refresh_dashboard_days(session: Session, now: datetime) -> int:
    """The ``dashboard-days`` task: count into the roll-up the next days not counted yet that are
    neither today nor yesterday, up to :data:`~reporting.daily.BATCH_DAYS` of them: the number of days
    counted (0 once up to date, so a second run changes nothing)."""
    last = now.date() - timedelta(days=2)
    counted = session.scalar(select(func.max(DashboardDayRun.day)))
    first = first_day(session) if counted is None else as_date(counted) + timedelta(days=1)
    if first is None or first > last:
        return 0
    return recount(session, first, min(last, first + timedelta(days=BATCH_DAYS - 1)), now=now)
