"""The journey table: a member in a scenario, with the step they are at and when it is next due."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, Money, UTCDateTime


class Journey(Base):
    """One member's way through one scenario (design rule 5: a row with a ``due_at``)."""

    __tablename__ = "journeys"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"))
    scenario_version: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: What made the member enter, unique per scenario and member: the outbox event, the scan's day,
    #: ``once``; a second entry with the same key is ignored.
    entry_key: Mapped[str] = mapped_column(String(64))
    #: The A/B variant, kept for the whole journey; NULL when the scenario has none.
    variant: Mapped[str | None] = mapped_column(String(32))
    #: In the control group: receives nothing, measured all the same.
    is_holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``active`` or ``ended``.
    status: Mapped[str] = mapped_column(String(8))
    #: The id of the step to run next (or being waited on).
    step: Mapped[str | None] = mapped_column(String(64))
    step_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the scheduler next looks at the journey; NULL once ended.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What a branch step waits for (``opened``, ``clicked``, ``purchased``): such a reaction makes the
    #: journey due at once.
    waiting_for: Mapped[str | None] = mapped_column(String(16))
    #: Figures captured at entry and by grant steps (threshold, offer code, products bought): every
    #: message of the journey renders from them, on every channel.
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``completed``, ``goal``, ``exit``, ``holdout``, ``paused_scenario``...
    end_reason: Mapped[str | None] = mapped_column(String(32))
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conversion_purchase_id: Mapped[int | None] = mapped_column(BigInteger)
    revenue: Mapped[Decimal | None] = mapped_column(Money())
    #: Messages of the journey actually sent (any channel but the in-app copy).
    messages_sent: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("scenario_id", "member_id", "entry_key"),
        Index("ix_journeys_member_id_status", "member_id", "status"),
        Index("ix_journeys_scenario_id_member_id_entered_at", "scenario_id", "member_id", "entered_at"),
        # The dashboard's scenarios ranked by revenue over a period (reporting/).
        Index(
            "ix_journeys_converted_at",
            "converted_at",
            postgresql_where=text("converted_at IS NOT NULL"),
            sqlite_where=text("converted_at IS NOT NULL"),
        ),
        Index(
            "ix_journeys_due",
            "due_at",
            "id",
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )


class PurchaseBonus(Base):
    """Points a journey promised on the member's next purchase within a deadline ("buy before Sunday,
    get 50 points"); credited by that purchase's transaction, once."""

    __tablename__ = "purchase_bonuses"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purchase_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_purchase_bonuses_member_id_used_at", "member_id", "used_at"),)
