"""The dashboard's roll-up: the figures of each closed UTC day, counted once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime


class DashboardDay(Base):
    """One figure of one day, per key (a channel, a tier, a reward or scenario id; ``""`` for none).

    Amounts of money are in cents, as the columns they sum store them."""

    __tablename__ = "dashboard_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    figure: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class DashboardDayRun(Base):
    """A day whose figures are in :class:`DashboardDay`: counted once it was neither today nor yesterday."""

    __tablename__ = "dashboard_day_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
