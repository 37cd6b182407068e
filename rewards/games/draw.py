"""The draw of an instant-win game: one uniform random integer over the sum of integer weights."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: ``randbelow(n)``: a uniform integer in ``[0, n)``.
RandomBelow = Callable[[int], int]


@dataclass(frozen=True)
class Draw:
    #: The index of the weight drawn.
    index: int
    #: The random value, in ``[0, total)``: recorded with the play, so a draw can be checked afterwards.
    value: int
    total: int


def draw(weights: Sequence[int], randbelow: RandomBelow = secrets.randbelow) -> Draw:
    """Pick an index with probability ``weights[index] / sum(weights)``.

    The value comes from ``randbelow``, by default the operating system's cryptographic source
    (:func:`secrets.randbelow`): plays cannot be predicted from earlier ones. Tests pass a seeded
    ``random.Random(…).randrange`` instead.
    """
    total = sum(weights)
    if total <= 0 or any(weight < 0 for weight in weights):
        raise ValueError("the weights must be non-negative and not all zero")
    value = randbelow(total)
    remaining = value
    for index, weight in enumerate(weights):
        if remaining < weight:
            return Draw(index=index, value=value, total=total)
        remaining -= weight
    raise AssertionError(f"randbelow({total}) gave {value}")
