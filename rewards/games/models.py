"""Instant-win games, their prizes, the plays members earn and the plays they make."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, Money, UTCDateTime
from loyalty.i18n import Translatable
from rewards.vouchers.models import Voucher

GAME_KINDS = ("wheel", "scratch")
#: What earns a play: a purchase (of at least ``earn_min_total``) or an engagement action.
EARN_EVENTS = ("purchase", "engagement")
PRIZE_KINDS = ("points", "reward")
#: ``out_of_stock``: a prize was drawn whose stock was gone; the member won nothing.
PLAY_OUTCOMES = ("prize", "no_prize", "out_of_stock")


class Game(Translatable, Base):
    """An instant-win game: prizes drawn by weight, a play earned by each qualifying event."""

    __tablename__ = "games"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The weight of winning nothing, beside the prizes' weights: the odds of a prize are its weight
    #: over the sum of all of them.
    no_prize_weight: Mapped[int] = mapped_column(BigInteger)
    earn_on: Mapped[str] = mapped_column(String(16))
    #: A purchase earns a play from this total (NULL: any purchase); purchase games only.
    earn_min_total: Mapped[Decimal | None] = mapped_column(Money())
    #: The engagement action that earns a play; engagement games only.
    earn_action_key: Mapped[str | None] = mapped_column(String(64))

    prizes: Mapped[list[GamePrize]] = relationship(
        order_by="GamePrize.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("kind IN ('wheel', 'scratch')", name="kind_known"),
        CheckConstraint("earn_on IN ('purchase', 'engagement')", name="earn_on_known"),
        CheckConstraint("no_prize_weight >= 0", name="no_prize_weight_not_negative"),
        CheckConstraint("(earn_on = 'engagement') = (earn_action_key IS NOT NULL)", name="engagement_has_action"),
        CheckConstraint("earn_on = 'purchase' OR earn_min_total IS NULL", name="min_total_for_purchases"),
        CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_ordered"),
    )

    def is_open(self, at: datetime) -> bool:
        """Active and inside its window: plays are earned and played."""
        return (
            self.is_active
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
        )


class GamePrize(Base):
    """A prize of a game: points or a voucher of an offer reward, with its weight and its stock."""

    __tablename__ = "game_prizes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id"))
    #: The order of the prizes on the wheel (and in the draw).
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    weight: Mapped[int] = mapped_column(BigInteger)
    #: Points credited (``points`` prizes).
    points: Mapped[int | None] = mapped_column(BigInteger)
    #: The offer reward whose voucher is given (``reward`` prizes).
    reward_code: Mapped[str | None] = mapped_column(ForeignKey("rewards.code"))
    #: Units left; NULL for unlimited. Decremented by a guarded update, never below zero.
    stock: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("game_id", "code"),
        CheckConstraint("kind IN ('points', 'reward')", name="kind_known"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("kind <> 'points' OR points > 0", name="points_prize_has_points"),
        CheckConstraint("kind <> 'reward' OR reward_code IS NOT NULL", name="reward_prize_has_reward"),
    )


class GamePlayCredit(Base):
    """One play a member earned, by one source event; spent by the play that uses it (``spent_at``)."""

    __tablename__ = "game_play_credits"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: What earned it: ``("purchase", "<purchase id>")`` or ``("engagement", "<action>:<ref>")``.
    source_type: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(200))
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("game_id", "member_id", "source_type", "source_id"),
        Index(
            "ix_game_play_credits_unspent",
            "game_id",
            "member_id",
            "id",
            postgresql_where=text("spent_at IS NULL"),
            sqlite_where=text("spent_at IS NULL"),
        ),
        Index("ix_game_play_credits_member_id", "member_id"),
    )


class GamePlay(Base):
    """One play, as drawn: the audit trail of a game (who, when, the random value, what it gave)."""

    __tablename__ = "game_plays"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: The credit spent: unique, so a credit pays for one play whatever happens concurrently.
    credit_id: Mapped[int] = mapped_column(ForeignKey("game_play_credits.id"), unique=True)
    played_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The random draw: a value in ``[0, draw_total)``, ``draw_total`` the sum of the weights then.
    draw_value: Mapped[int] = mapped_column(BigInteger)
    draw_total: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    #: The prize drawn (also for ``out_of_stock``); NULL for ``no_prize``.
    prize_id: Mapped[int | None] = mapped_column(ForeignKey("game_prizes.id"))
    prize_code: Mapped[str | None] = mapped_column(String(64))
    #: The prize's stock right after this play took its unit; NULL for unlimited prizes and no prize.
    stock_after: Mapped[int | None] = mapped_column(BigInteger)
    points_awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))

    voucher: Mapped[Voucher | None] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("outcome IN ('prize', 'no_prize', 'out_of_stock')", name="outcome_known"),
        CheckConstraint("draw_value >= 0 AND draw_value < draw_total", name="draw_within_total"),
        CheckConstraint("(outcome = 'no_prize') = (prize_id IS NULL)", name="prize_unless_no_prize"),
        Index("ix_game_plays_game_id_id", "game_id", "id"),
        Index("ix_game_plays_member_id_id", "member_id", "id"),
    )
