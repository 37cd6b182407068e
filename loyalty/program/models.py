"""Program settings and earning rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, Money, Rate, UTCDateTime

EARNING_RULE_KINDS = ("category", "promotion")
CHANNELS = ("store", "web", "app")


#: Settings holding amounts per key (a JSON object of strings: JSON has no exact decimals).
BOUND_SETTINGS = ("max_total_by_channel", "max_total_by_store")


def amounts_as_strings(amounts: dict[str, Any]) -> dict[str, str]:
    """``{"store": Decimal("5000")}`` as stored: ``{"store": "5000.00"}``."""
    return {key: str(Decimal(str(amount)).quantize(Decimal("0.01"))) for key, amount in amounts.items()}


class ProgramSettings(Base):
    """The program's settings: a single row (id 1), created by ``loyalty init`` from the default program."""

    __tablename__ = "program_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    #: Points per whole currency unit spent, before multipliers (1 = one point per 1.00).
    points_per_unit: Mapped[Decimal] = mapped_column(Rate())
    #: What one point is worth in the program's currency: the points liability in money.
    point_value: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0.01"), server_default="100")
    #: A purchase whose total is below this earns nothing.
    minimum_amount: Mapped[Decimal] = mapped_column(Money())
    #: How many days after a purchase without a member it may still be claimed by one.
    claim_window_days: Mapped[int] = mapped_column(Integer)
    #: Used for members who do not give their own.
    default_timezone: Mapped[str] = mapped_column(String(64))
    default_locale: Mapped[str] = mapped_column(String(16))
    #: The languages of the program's texts; the first is the original one (the texts' own columns),
    #: every other one must be translated in each message template.
    locales: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Earned points expire this many months after they were earned; NULL: they never expire.
    points_expiry_months: Mapped[int | None] = mapped_column(Integer)
    #: ``PointsExpiring`` fires, and the status document warns, this many days before an expiry.
    expiry_notice_days: Mapped[int] = mapped_column(Integer, default=30)
    #: Purchase points stay pending (not spendable) for this many days: the return window. 0: none.
    pending_days: Mapped[int] = mapped_column(Integer, default=0)
    #: Qualifying points for tiers are counted over this many months, ending now.
    tier_window_months: Mapped[int] = mapped_column(Integer, default=12)
    #: Tiers are reviewed on this calendar date ("MM-DD") each year; NULL: on the tier's anniversary.
    tier_review_month_day: Mapped[str | None] = mapped_column(String(5))
    #: A referee's first purchase of at least this amount rewards them and their sponsor.
    referral_min_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    #: Points for the referee; the sponsor earns the ``referral`` engagement action's points.
    referral_referee_points: Mapped[int] = mapped_column(Integer, default=0)
    #: Profile fields that, once all filled, earn the ``profile_completed`` action.
    profile_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The largest purchase total accepted per channel and per store, as amounts in strings
    #: (``{"store": "5000.00"}``); a channel or store not named has no bound. A larger receipt is refused.
    max_total_by_channel: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    max_total_by_store: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: Replaced by every configuration change; workers compare it to renew their cached copies.
    config_token: Mapped[str] = mapped_column(String(32))

    def max_total(self, channel: str, store_code: str) -> Decimal | None:
        """The largest total a purchase of this channel and store may have; None: no bound."""
        bounds = [
            Decimal(bound)
            for bound in (self.max_total_by_channel.get(channel), self.max_total_by_store.get(store_code))
            if bound is not None
        ]
        return min(bounds, default=None)

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("points_per_unit >= 0", name="points_per_unit_not_negative"),
        CheckConstraint("minimum_amount >= 0", name="minimum_amount_not_negative"),
        CheckConstraint("claim_window_days >= 0", name="claim_window_not_negative"),
        CheckConstraint("points_expiry_months IS NULL OR points_expiry_months > 0", name="expiry_positive"),
        CheckConstraint("expiry_notice_days >= 0", name="notice_not_negative"),
        CheckConstraint("pending_days >= 0", name="pending_not_negative"),
        CheckConstraint("tier_window_months > 0", name="tier_window_positive"),
    )


class EarningRule(Base):
    """A multiplier on the base rate: for a product category, or a time-boxed promotion.

    A category rule multiplies the points of the lines in that category. A promotion multiplies the
    points of purchases made between ``starts_at`` and ``ends_at``, optionally only on one channel or
    for one category; when several promotions apply to a line, the largest multiplier wins.
    """

    __tablename__ = "earning_rules"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    multiplier: Mapped[Decimal] = mapped_column(Rate())
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        CheckConstraint("kind IN ('category', 'promotion')", name="kind_known"),
        CheckConstraint("multiplier >= 0", name="multiplier_not_negative"),
        CheckConstraint("kind <> 'category' OR category IS NOT NULL", name="category_rule_has_category"),
        CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_ordered"
        ),
    )
