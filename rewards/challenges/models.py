"""Challenges, their steps, members' participations and their progress on each step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, UTCDateTime
from loyalty.i18n import Translatable

STEP_KINDS = ("purchase", "engagement")


class Challenge(Translatable, Base):
    """Steps to do between ``starts_at`` and ``ends_at``, rewarded once when all are done."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: NULL: open-ended.
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The steps count only in their order (a step moves once the ones before it are done).
    is_ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Only members who joined make progress; otherwise every member takes part.
    requires_join: Mapped[bool] = mapped_column(Boolean, default=False)
    reward_points: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_badge_code: Mapped[str | None] = mapped_column(ForeignKey("badges.code"))
    #: An offer reward of the catalog, given as a voucher.
    reward_code: Mapped[str | None] = mapped_column(ForeignKey("rewards.code"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    steps: Mapped[list[ChallengeStep]] = relationship(
        back_populates="challenge", order_by="ChallengeStep.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="window_ordered"),
        CheckConstraint("reward_points >= 0", name="reward_points_not_negative"),
    )


class ChallengeStep(Base):
    """Something to do ``count`` times: a purchase (in ``category``, if set) or an engagement ``action``."""

    __tablename__ = "challenge_steps"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    #: 1 for the first step.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    #: The engagement action of an ``engagement`` step.
    action: Mapped[str | None] = mapped_column(String(64))
    #: A purchase step counts only purchases with a line in this category; NULL: any purchase.
    category: Mapped[str | None] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)

    challenge: Mapped[Challenge] = relationship(back_populates="steps")

    __table_args__ = (
        UniqueConstraint("challenge_id", "position"),
        CheckConstraint("kind IN ('purchase', 'engagement')", name="kind_known"),
        CheckConstraint("(kind = 'engagement') = (action IS NOT NULL)", name="engagement_has_action"),
        CheckConstraint("kind = 'purchase' OR category IS NULL", name="category_for_purchases"),
        CheckConstraint("position > 0", name="position_positive"),
        CheckConstraint("count > 0", name="count_positive"),
    )


class ChallengeParticipation(Base):
    """A member taking part in a challenge: joined (opt-in) or by a first step done (automatic)."""

    __tablename__ = "challenge_participations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set once, by a guarded update, when the last step is done: the reward follows it.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("member_id", "challenge_id"),)


class ChallengeProgress(Base):
    """How many times a participant did a step so far, never above the step's count."""

    __tablename__ = "challenge_progress"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("challenge_participations.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("challenge_steps.id"))
    value: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("participation_id", "step_id"),)
