"""How many points a purchase earns: pure functions over plain values, no database.

The earning policy is read from the program's tables (:func:`loyalty.program.operations.load_policy`)
and applied here. Per line: amount × points per unit × category multiplier × the largest promotion
multiplier that applies; the purchase earns the sum, times the member's tier multiplier, rounded down once at the end. When a receipt has
lines, their amounts are scaled so that they add up to the total actually paid (a receipt-level
discount lowers every line in proportion). The sum is computed exactly (fractions): scaled lines
such as three thirds of a total add up to the total, not to a hair below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from math import floor


@dataclass(frozen=True)
class Promotion:
    multiplier: Decimal
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    channel: str | None = None
    category: str | None = None
    #: Only for the members of this segment.
    segment: str | None = None

    def applies(self, *, at: datetime, channel: str, category: str | None, segments: frozenset[str] = frozenset()) -> bool:
        """True when the purchase falls in the window (start inclusive, end exclusive) and scope, and
        the member is in the promotion's segment (``segments``: those the member is in)."""
        return (
            (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
            and (self.channel is None or self.channel == channel)
            and (self.category is None or self.category == category)
            and (self.segment is None or self.segment in segments)
        )


@dataclass(frozen=True)
class EarningPolicy:
    points_per_unit: Decimal
    minimum_amount: Decimal = Decimal("0")
    category_multipliers: dict[str, Decimal] = field(default_factory=dict)
    promotions: Sequence[Promotion] = ()

    @property
    def segments(self) -> frozenset[str]:
        """The segments some promotion is for."""
        return frozenset(p.segment for p in self.promotions if p.segment is not None)


@dataclass(frozen=True)
class EarningLine:
    amount: Decimal
    category: str | None = None


def purchase_points(
    policy: EarningPolicy,
    *,
    total: Decimal,
    lines: Sequence[EarningLine],
    channel: str,
    occurred_at: datetime,
    tier_multiplier: Decimal = Decimal("1"),
    segments: frozenset[str] = frozenset(),
) -> int:
    """Points earned by a purchase of ``total`` made of ``lines`` (may be empty), by a member whose
    tier multiplies their points by ``tier_multiplier`` and who is in ``segments``."""
    if total <= 0 or total < policy.minimum_amount:
        return 0
    line_sum = sum((line.amount for line in lines), Decimal("0"))
    if not lines or line_sum <= 0:
        lines, line_sum = [EarningLine(amount=total)], total
    points = Fraction(0)
    for line in lines:
        paid = Fraction(line.amount) * Fraction(total) / Fraction(line_sum)
        multiplier = policy.category_multipliers.get(line.category or "", Decimal("1"))
        promo = max(
            (
                p.multiplier
                for p in policy.promotions
                if p.applies(at=occurred_at, channel=channel, category=line.category, segments=segments)
            ),
            default=Decimal("1"),
        )
        points += paid * Fraction(policy.points_per_unit) * Fraction(multiplier) * Fraction(promo)
    return floor(points * Fraction(tier_multiplier))


def points_to_reverse(*, awarded: int, already_reversed: int, total: Decimal, returned_amount: Decimal) -> int:
    """Points a return must take back so that, in all, ``awarded × returned / total`` (rounded down)
    are reversed; computed on the cumulative amount so that partial returns never drift, and a full
    return takes back exactly what was awarded."""
    if total <= 0:
        return 0
    target = (Decimal(awarded) * returned_amount / total).to_integral_value(rounding=ROUND_FLOOR)
    return max(int(target) - already_reversed, 0)
