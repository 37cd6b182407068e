"""The segments table, and the purchase history summarised per member for their conditions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, Money, UTCDateTime


class Segment(Base):
    """A named audience: a definition of conditions on members (``loyalty.segments.compiler``)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or one condition (docs/integrations.md).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AwardCampaign(Base):
    """Points given once to every member of a segment, identified by the campaign's ``ref``."""

    __tablename__ = "award_campaigns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    segment_key: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    members_awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)


class MemberPurchaseMonth(Base):
    """A member's purchases in one calendar month (UTC): how many, and the spend net of returns.

    Kept after commit by the ``segment-history`` consumer (:mod:`loyalty.segments.history`); the
    ``purchases`` condition reads whole months here and only the window's first, partial month from
    ``purchases``.
    """

    __tablename__ = "member_purchase_months"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    #: The first instant of the month, UTC.
    month: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    purchases: Mapped[int] = mapped_column(Integer)
    spend: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (
        Index("ix_member_purchase_months_month", "month", "member_id", postgresql_include=["purchases", "spend"]),
    )


class MemberCategory(Base):
    """When a member last bought a line of a category (kept by the same consumer): "bought shoes
    within 90 days" is a range over one index."""

    __tablename__ = "member_categories"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_bought_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_member_categories_category_last_bought_at", "category", "last_bought_at", postgresql_include=["member_id"]),
    )


class MemberPurchaseWindow(Base):
    """A member's purchases over the rolling windows segments use most (30, 90, 180 and 365 days
    before :class:`PurchaseWindowsAnchor`'s instant, with no end): how many, and the spend net of
    returns. One row per member who bought within the longest window.

    Kept by the ``segment-history`` consumer (the member's row recounted after each purchase, claim
    or return) and by the ``purchase-windows`` maintenance task, which moves the anchor to each new
    UTC day and recounts the members whose purchases left a window (:mod:`loyalty.segments.windows`).
    """

    __tablename__ = "member_purchase_windows"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    purchases_30: Mapped[int] = mapped_column(Integer)
    spend_30: Mapped[Decimal] = mapped_column(Money())
    purchases_90: Mapped[int] = mapped_column(Integer)
    spend_90: Mapped[Decimal] = mapped_column(Money())
    purchases_180: Mapped[int] = mapped_column(Integer)
    spend_180: Mapped[Decimal] = mapped_column(Money())
    purchases_365: Mapped[int] = mapped_column(Integer)
    spend_365: Mapped[Decimal] = mapped_column(Money())


class PurchaseWindowsAnchor(Base):
    """The one row saying what :class:`MemberPurchaseWindow` is counted from: its windows start
    ``days`` before ``as_of`` (a UTC midnight); none yet (``NULL``) until the first maintenance pass
    counts them, the segment conditions reading the monthly summary meanwhile."""

    __tablename__ = "purchase_windows_anchor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
