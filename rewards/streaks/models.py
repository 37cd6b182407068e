"""Streak definitions and each member's run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime

STREAK_PERIODS = ("day", "week")


class Streak(Base):
    """A streak: days or ISO weeks (from Monday), in the member's time zone, each with at least one
    qualifying activity."""

    __tablename__ = "streaks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    period: Mapped[str] = mapped_column(String(8))
    #: A purchase (or a claimed one) qualifies.
    counts_purchases: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The engagement actions that qualify (recorded within their limits).
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("period IN ('day', 'week')", name="period_known"),)


class MemberStreak(Base):
    """A member's run on one streak, moved by one atomic statement on each qualifying activity.

    Whether the run is still alive is decided when it is read: it is if its last active period is
    the current one or the one before (``rewards.streaks.periods``).
    """

    __tablename__ = "member_streaks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    streak_id: Mapped[int] = mapped_column(ForeignKey("streaks.id"))
    #: The length of the run that ends with ``last_period``.
    current: Mapped[int] = mapped_column(Integer)
    best: Mapped[int] = mapped_column(Integer)
    #: The number of the last period with an activity (days, or weeks, since 0001-01-01 in the
    #: member's time zone; see ``rewards.streaks.periods``).
    last_period: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("member_id", "streak_id"),
        CheckConstraint("current > 0 AND best >= current", name="run_within_best"),
    )
