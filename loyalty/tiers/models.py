"""Tiers, the history of members' tier changes, and physical card issuances."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, Rate, UTCDateTime
from loyalty.i18n import Translatable
from loyalty.members.models import Member

CARD_STATUSES = ("pending", "printed", "shipped")


class Tier(Translatable, Base):
    """A level of the ladder: reached with ``threshold`` qualifying points over the program's window."""

    __tablename__ = "tiers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    #: 0 for the entry tier; higher is better. Thresholds rise with the rank (checked when saved).
    rank: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(BigInteger)
    #: Multiplies the points members of this tier earn on purchases.
    multiplier: Mapped[Decimal] = mapped_column(Rate())
    benefits: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Reaching this tier issues a new physical card.
    has_card: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint("rank >= 0", name="rank_not_negative"),
        CheckConstraint("threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("multiplier >= 0", name="multiplier_not_negative"),
    )


class TierChange(Base):
    """One change of a member's tier, up or down, with the qualifying points at the time."""

    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    from_code: Mapped[str | None] = mapped_column(String(32))
    to_code: Mapped[str] = mapped_column(String(32))
    #: ``enrolment``, ``upgrade`` or ``downgrade``.
    reason: Mapped[str] = mapped_column(String(16))
    qualifying_points: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship()

    __table_args__ = (
        Index("ix_tier_changes_member_id_id", "member_id", "id"),
        # The dashboard's tier upgrades over a period (reporting/).
        Index("ix_tier_changes_changed_at", "changed_at"),
    )


class CardIssuance(Base):
    """A physical card to print and send, queued by an upgrade to a tier that has one."""

    __tablename__ = "card_issuances"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    tier_code: Mapped[str] = mapped_column(String(32))
    #: The new card's number; it becomes the member's card number when the card is shipped.
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'printed', 'shipped')", name="status_known"),
        Index("ix_card_issuances_status", "status", "id"),
    )
