"""How many points a purchase earns: pure functions over plain values, no database.

The earning policy is read from the program's tables (:func:`loyalty.purchases.rules.load_policy`)
and applied here. Per line: amount × points per unit × category multiplier × the largest promotion
multiplier that applies; the purchase earns the sum, times the member's tier multiplier, rounded down once at the end. When a receipt has
lines, their amounts are scaled so that they add up to the total actually paid (a receipt-level
discount lowers every line in proportion). The sum is computed exactly (fractions): scaled lines
such as three thirds of a total add up to the total, not to a hair below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
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
    return floor(sum(_exact_line_points(policy, total, lines, channel, occurred_at, tier_multiplier, segments), Fraction(0)))


@dataclass(frozen=True)
class Earned:
    """The points of a purchase, and what each of its lines earned (whole points adding up to them)."""

    points: int
    by_line: tuple[int, ...]

    @classmethod
    def nothing(cls, lines: int) -> Earned:
        return cls(0, (0,) * lines)


def earn(
    policy: EarningPolicy,
    *,
    total: Decimal,
    lines: Sequence[EarningLine],
    channel: str,
    occurred_at: datetime,
    tier_multiplier: Decimal = Decimal("1"),
    segments: frozenset[str] = frozenset(),
) -> Earned:
    """:func:`purchase_points`, shared out between the lines: each line gets its exact points rounded
    down, and the points rounding leaves go to the lines with the largest remainders (the first on a
    tie). A return by lines takes back what its lines earned."""
    exact = _exact_line_points(policy, total, lines, channel, occurred_at, tier_multiplier, segments)
    return _shared_out(exact, lines)


def earn_by_tier(
    policy: EarningPolicy,
    multipliers: Mapping[str, Decimal],
    *,
    total: Decimal,
    lines: Sequence[EarningLine],
    channel: str,
    occurred_at: datetime,
    segments: frozenset[str] = frozenset(),
) -> dict[str, Earned]:
    """:func:`earn` for each tier of ``multipliers`` (a tier's code: its points multiplier), the lines'
    exact points computed once and multiplied by each tier's (the same figures, exactly)."""
    exact = _exact_line_points(policy, total, lines, channel, occurred_at, Decimal("1"), segments)
    by_multiplier: dict[Decimal, Earned] = {}
    for multiplier in multipliers.values():
        if multiplier not in by_multiplier:
            factor = Fraction(multiplier)
            by_multiplier[multiplier] = _shared_out([share * factor for share in exact], lines)
    return {code: by_multiplier[multiplier] for code, multiplier in multipliers.items()}


def _shared_out(exact: list[Fraction], lines: Sequence[EarningLine]) -> Earned:
    """The purchase's points (its lines' exact points summed, rounded down once), and each line's."""
    points = floor(sum(exact, Fraction(0)))
    if sum((line.amount for line in lines), Decimal("0")) <= 0:  # no priced line: the total earned alone
        return Earned(points, (0,) * len(lines))
    by_line = [floor(share) for share in exact] or [0] * len(lines)
    left = points - sum(by_line)
    for index in sorted(range(len(exact)), key=lambda i: by_line[i] - exact[i])[:left]:
        by_line[index] += 1
    return Earned(points, tuple(by_line))


def _exact_line_points(
    policy: EarningPolicy,
    total: Decimal,
    lines: Sequence[EarningLine],
    channel: str,
    occurred_at: datetime,
    tier_multiplier: Decimal,
    segments: frozenset[str],
) -> list[Fraction]:
    """Each line's points, exact, before any rounding; a single line of the whole total when the
    receipt has no priced line; none below the program's minimum amount."""
    if total <= 0 or total < policy.minimum_amount:
        return []
    line_sum = sum((line.amount for line in lines), Decimal("0"))
    if not lines or line_sum <= 0:
        lines, line_sum = [EarningLine(amount=total)], total
    shares = []
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
        shares.append(
            paid * Fraction(policy.points_per_unit) * Fraction(multiplier) * Fraction(promo) * Fraction(tier_multiplier)
        )
    return shares


@dataclass(frozen=True)
class BoughtLine:
    """A line of a purchase as returns see it: what it cost and earned, how much of it came back."""

    amount: Decimal
    points: int
    quantity: int
    returned_quantity: int


def points_to_reverse(
    *,
    awarded: int,
    already_reversed: int,
    total: Decimal,
    returned_amount: Decimal,
    lines: Sequence[BoughtLine] = (),
) -> int:
    """Points a return must take back so that, in all, what came back is reversed: the points its
    returned lines earned (a line's points × returned / bought, rounded down), and for the amount
    returned beyond those lines ``awarded × amount / total`` (rounded down). Computed on the
    cumulative returns so that partial returns never drift; a full return takes back exactly what was
    awarded."""
    if total <= 0:
        return 0
    if returned_amount >= total:
        return max(awarded - already_reversed, 0)
    line_sum = sum((line.amount for line in lines), Decimal("0"))
    by_lines, lines_value = 0, Fraction(0)
    for line in lines:
        if line.returned_quantity and line_sum > 0:
            by_lines += floor(Fraction(line.points * line.returned_quantity, line.quantity))
            returned = Fraction(line.amount) * line.returned_quantity / line.quantity
            lines_value += returned * Fraction(total) / Fraction(line_sum)
    by_amount = max(Fraction(returned_amount) - lines_value, Fraction(0))
    target = min(awarded, by_lines + floor(awarded * by_amount / Fraction(total)))
    return max(target - already_reversed, 0)
