"""Badges, their levels, the badges members earned and the member metrics they are earned on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, UTCDateTime
from loyalty.i18n import Translatable
from rewards.badges.metrics import METRICS

#: What a badge can count.
METRIC_NAMES = tuple(METRICS)


class Badge(Translatable, Base):
    """A badge: earned at each of its levels when the member's ``metric`` reaches the level's target."""

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(500))
    #: Shown to a member only once they earned it (a surprise).
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    metric: Mapped[str] = mapped_column(String(32))
    #: What the metric is about, for the metrics that need it: the category of ``category_purchases``,
    #: the tier of ``tier``, the streak of ``streak``, the challenge of ``challenges_completed``.
    qualifier: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    levels: Mapped[list[BadgeLevel]] = relationship(
        back_populates="badge", order_by="BadgeLevel.rank", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint(f"metric IN ({', '.join(repr(name) for name in METRIC_NAMES)})", name="metric_known"),
    )


class BadgeLevel(Base):
    """One level of a badge (bronze, silver, gold); a badge with a single target has one, unnamed."""

    __tablename__ = "badge_levels"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id"))
    #: 1 for the first level; targets rise with the rank.
    rank: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[int] = mapped_column(BigInteger)
    #: Points credited when the level is earned.
    points: Mapped[int] = mapped_column(BigInteger, default=0)

    badge: Mapped[Badge] = relationship(back_populates="levels")

    __table_args__ = (
        UniqueConstraint("badge_id", "rank"),
        CheckConstraint("rank > 0", name="rank_positive"),
        CheckConstraint("target > 0", name="target_positive"),
        CheckConstraint("points >= 0", name="points_not_negative"),
    )


class MemberBadge(Base):
    """A level of a badge a member earned; the unique key makes each level earned once, whatever
    the number of events that reach it at the same time."""

    __tablename__ = "member_badges"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id"))
    #: The rank of the level earned.
    level: Mapped[int] = mapped_column(Integer)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("member_id", "badge_id", "level"),)


class MemberMetric(Base):
    """A member's running figure for one metric (and qualifier), moved by one atomic statement in the
    transaction of the event that moves it; badge progress is read from it, never from history."""

    __tablename__ = "member_metrics"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    metric: Mapped[str] = mapped_column(String(32))
    #: The category, tier, streak or challenge code; ``""`` for the metrics without one.
    qualifier: Mapped[str] = mapped_column(String(64))
    #: A count (purchases, reviews…) or the highest figure reached (lifetime points, streak length).
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("member_id", "metric", "qualifier"),)
