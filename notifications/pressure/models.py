"""Marketing pressure settings, blackout periods and members' open complaints."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime


class PressureSettings(Base):
    """The program's marketing pressure rules (one row)."""

    __tablename__ = "pressure_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: At most ``cap_messages`` marketing messages per member per ``cap_days`` days.
    cap_messages: Mapped[int] = mapped_column(Integer)
    cap_days: Mapped[int] = mapped_column(Integer)
    #: No marketing message is sent between these local times (the member's timezone); the end may be
    #: earlier than the start (21:00 → 08:00 spans midnight). Deferred, never dropped.
    quiet_start: Mapped[time] = mapped_column(Time)
    quiet_end: Mapped[time] = mapped_column(Time)
    #: Delivery attempts before a message becomes a dead letter.
    max_attempts: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("cap_messages >= 0 AND cap_days > 0", name="cap_positive"),
        CheckConstraint("max_attempts > 0", name="attempts_positive"),
    )


class BlackoutPeriod(Base):
    """A period ("trêve") during which marketing scenarios pause: journeys wait, messages are deferred."""

    __tablename__ = "blackout_periods"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_blackout_periods_ends_at", "ends_at"),
    )


class Complaint(Base):
    """A member's complaint, open until closed: no marketing reaches them meanwhile."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    subject: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_complaints_member_id_closed_at", "member_id", "closed_at"),)
