"""The lift of a group's conversion rate over another's, with its confidence interval.

"Is variant B better than the holdout?" is answered by the interval, not by the two rates: a lift of
+2 points whose 95 % interval runs from -1 to +5 points is not shown to be a lift at all.

The interval of a difference of two proportions is Newcombe's hybrid score interval (Newcombe 1998,
method 10), built from the Wilson score interval of each proportion. Unlike the textbook Wald interval
it stays inside [-1, 1] and keeps its coverage with the small counts and the rates near 0 a young
scenario has (3 conversions out of 40 entries).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Lift:
    """A group's conversion rate minus the reference group's, with the interval at ``confidence``."""

    rate: float
    reference_rate: float
    #: The difference of the rates (0.02: two percentage points more).
    difference: float
    interval: Interval
    #: ``difference / reference_rate``; None when the reference converted nobody.
    relative: float | None
    confidence: float

    @property
    def is_significant(self) -> bool:
        """Does the interval leave 0 out (a real difference at this confidence)?"""
        return self.interval.low > 0 or self.interval.high < 0


def wilson_interval(successes: int, trials: int, *, confidence: float = 0.95) -> Interval:
    """The Wilson score interval of the proportion ``successes / trials``."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and a positive number of trials")
    z = _z(confidence)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def lift(
    converted: int, entered: int, reference_converted: int, reference_entered: int, *, confidence: float = 0.95
) -> Lift | None:
    """The lift of ``converted / entered`` over ``reference_converted / reference_entered``; None when
    either group is empty (nothing to compare yet)."""
    if entered <= 0 or reference_entered <= 0:
        return None
    p1, p2 = converted / entered, reference_converted / reference_entered
    own = wilson_interval(converted, entered, confidence=confidence)
    other = wilson_interval(reference_converted, reference_entered, confidence=confidence)
    difference = p1 - p2
    low = difference - sqrt((p1 - own.low) ** 2 + (other.high - p2) ** 2)
    high = difference + sqrt((own.high - p1) ** 2 + (p2 - other.low) ** 2)
    return Lift(
        rate=p1,
        reference_rate=p2,
        difference=difference,
        interval=Interval(low, high),
        relative=difference / p2 if p2 else None,
        confidence=confidence,
    )


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    return NormalDist().inv_cdf(0.5 + confidence / 2)
