"""Rewards."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, Money, UTCDateTime
from loyalty.i18n import Translatable

REWARD_KINDS = ("fixed_voucher", "percent_voucher", "gift", "free_shipping", "event_invitation")


class Reward(Translatable, Base):
    """Something a member can get for points: each redemption issues a single-use voucher."""

    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32))
    #: The voucher's value: an amount off for ``fixed_voucher``, NULL otherwise.
    amount: Mapped[Decimal | None] = mapped_column(Money())
    #: The percentage off for ``percent_voucher``, NULL otherwise.
    percent: Mapped[int | None] = mapped_column(Integer)
    cost_points: Mapped[int] = mapped_column(BigInteger)
    #: Members below this tier cannot redeem it; NULL for everyone.
    min_tier_code: Mapped[str | None] = mapped_column(ForeignKey("tiers.code"))
    #: Units left; NULL for unlimited. Decremented by a guarded update, never below zero.
    stock: Mapped[int | None] = mapped_column(BigInteger)
    #: How long an issued voucher stays usable.
    validity_days: Mapped[int] = mapped_column(Integer)
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Given by scenarios (a welcome offer, a birthday gift) and never bought with points: not in the
    #: members' catalog.
    is_offer: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint(
            "kind IN ('fixed_voucher', 'percent_voucher', 'gift', 'free_shipping', 'event_invitation')",
            name="kind_known",
        ),
        CheckConstraint("cost_points >= 0", name="cost_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("validity_days > 0", name="validity_positive"),
        CheckConstraint("kind <> 'fixed_voucher' OR amount > 0", name="fixed_voucher_has_amount"),
        CheckConstraint("kind <> 'percent_voucher' OR (percent > 0 AND percent <= 100)", name="percent_in_range"),
        CheckConstraint(
            "active_from IS NULL OR active_until IS NULL OR active_from < active_until", name="window_ordered"
        ),
    )

    def is_available(self, at: datetime) -> bool:
        """Active and inside its window (stock aside)."""
        return within_window(self.is_active, self.active_from, self.active_until, at)


def within_window(is_active: bool, active_from: datetime | None, active_until: datetime | None, at: datetime) -> bool:
    """Whether a reward active or not, from ``active_from`` until ``active_until``, may be had ``at``."""
    return is_active and (active_from is None or active_from <= at) and (active_until is None or at < active_until)
