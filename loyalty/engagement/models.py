"""Engagement actions (configuration) and the engagements members report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime

PERIODS = ("day", "week", "month")
OUTCOMES = ("awarded", "limit_reached")


class EngagementAction(Base):
    """Something a member does that earns points, with its limits."""

    __tablename__ = "engagement_actions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    points: Mapped[int] = mapped_column(BigInteger)
    #: Awarded at most once in a member's life (account creation, profile completion).
    once_per_member: Mapped[bool] = mapped_column(Boolean, default=False)
    #: At most this many awards per ``period`` (calendar day, ISO week or month, in the member's time zone).
    max_per_period: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(8))
    #: Minimum time between two awards.
    cooldown_minutes: Mapped[int | None] = mapped_column(Integer)
    #: A member may report it with their own token (a share, a quiz); otherwise only a service or admin.
    self_reportable: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The custom event type that awards it (``POST /events``); such an action is not reported directly.
    event_type: Mapped[str | None] = mapped_column(String(64))
    #: Conditions on the custom event's properties, all of which must hold (``loyalty.customevents.conditions``).
    conditions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))

    __table_args__ = (
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint("period IS NULL OR period IN ('day', 'week', 'month')", name="period_known"),
        CheckConstraint("(max_per_period IS NULL) = (period IS NULL)", name="limit_has_period"),
        CheckConstraint("max_per_period IS NULL OR max_per_period > 0", name="limit_positive"),
        CheckConstraint("cooldown_minutes IS NULL OR cooldown_minutes > 0", name="cooldown_positive"),
        CheckConstraint("conditions IS NULL OR event_type IS NOT NULL", name="conditions_on_event"),
    )


class Engagement(Base):
    """One reported engagement, identified by ``(member, action, ref)``: the source's own id."""

    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    action_key: Mapped[str] = mapped_column(String(64))
    #: The reporting system's id of the thing (the review id, the share id).
    ref: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    points_awarded: Mapped[int] = mapped_column(BigInteger)
    #: ``awarded``, or ``limit_reached`` (recorded, with 0 points and the reason).
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("member_id", "action_key", "ref"),
        Index("ix_engagements_member_id_action_key_occurred_at", "member_id", "action_key", "occurred_at"),
    )


#: Engagement levels, highest first.
ENGAGEMENT_LEVELS = ("engaged", "at_risk", "dormant")
#: The interactions the engagement score weighs.
SCORE_INTERACTIONS = ("purchase", "engagement", "message_opened", "message_clicked", "game_played")


class EngagementScoreSettings(Base):
    """How the engagement score is computed: a single row (id 1); no row, no score."""

    __tablename__ = "engagement_score_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: After this many days without interaction, a score is half what it was.
    half_life_days: Mapped[float] = mapped_column(Float)
    #: What each interaction adds to the score: ``{"purchase": 10, "engagement": 3, …}``.
    weights: Mapped[dict[str, float]] = mapped_column(JSON)
    #: A score at or above this is ``engaged``; at or above ``at_risk_from``, ``at_risk``; below, ``dormant``.
    engaged_from: Mapped[float] = mapped_column(Float)
    at_risk_from: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("half_life_days > 0", name="half_life_positive"),
        CheckConstraint("engaged_from > at_risk_from AND at_risk_from > 0", name="boundaries_ordered"),
    )


class EngagementScore(Base):
    """A member's engagement score as of its last interaction; it decays from there, computed when read.

    ``level`` and ``drops_at`` are kept with it so that the members whose level falls are found by one
    indexed query (``loyalty.engagement.tasks.fire_engagement_drops``).
    """

    __tablename__ = "engagement_scores"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    #: The score at ``as_of``; at a later instant it is ``score * 0.5 ** (elapsed / half-life)``.
    score: Mapped[float] = mapped_column(Float)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    level: Mapped[str] = mapped_column(String(8))
    #: When the decaying score falls below ``level``'s lower boundary; NULL for ``dormant``.
    drops_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("level IN ('engaged', 'at_risk', 'dormant')", name="level_known"),
        CheckConstraint("score >= 0", name="score_not_negative"),
        Index(
            "ix_engagement_scores_drops_at",
            "drops_at",
            "id",
            postgresql_where=text("drops_at IS NOT NULL"),
            sqlite_where=text("drops_at IS NOT NULL"),
        ),
        # The back office's members by engagement level (reporting/): an index-only count.
        Index("ix_engagement_scores_level", "level"),
    )
