"""The draw of instant-win games, and the period keys of leaderboards: plain functions."""

from __future__ import annotations

import inspect
import random
import secrets
from collections import Counter
from datetime import UTC, datetime

import pytest

from rewards.games.draw import draw
from rewards.leaderboards.operations import period_key

#: The default wheel: 10 points, a coffee, 50 points, 500 points, nothing.
WHEEL = [30, 12, 6, 2, 50]


def test_the_draw_uses_the_systems_cryptographic_source_unless_given_another():
    assert inspect.signature(draw).parameters["randbelow"].default is secrets.randbelow
    assert draw([1, 1]).total == 2


def test_over_many_draws_each_outcome_comes_up_about_as_often_as_its_weight_says():
    source = random.Random(20261122)
    draws = 100_000
    counts = Counter(draw(WHEEL, source.randrange).index for _ in range(draws))
    for index, weight in enumerate(WHEEL):
        # One standard deviation is at most 0.16 % here: 1 % is a wide margin, yet any wrong mapping
        # from values to outcomes (an off-by-one at a boundary, a weight ignored) shows.
        assert abs(counts[index] / draws - weight / sum(WHEEL)) < 0.01, (index, counts)


@pytest.mark.parametrize(
    ("value", "index"),
    [(0, 0), (29, 0), (30, 1), (41, 1), (42, 2), (47, 2), (48, 3), (49, 3), (50, 4), (99, 4)],
)
def test_each_value_falls_in_the_outcome_whose_weights_cover_it(value, index):
    drawn = draw(WHEEL, lambda total: value)
    assert (drawn.index, drawn.value, drawn.total) == (index, value, 100)


def test_an_outcome_of_weight_zero_is_never_drawn():
    values = iter(range(4))
    assert {draw([0, 3, 0, 1], lambda total: next(values)).index for _ in range(4)} == {1, 3}


@pytest.mark.parametrize("weights", [[], [0, 0], [2, -1]], ids=["none", "all zero", "a negative one"])
def test_weights_that_cannot_be_drawn_from_are_refused(weights):
    with pytest.raises(ValueError):
        draw(weights)


@pytest.mark.parametrize(
    ("moment", "period", "key"),
    [
        (datetime(2026, 11, 30, 22, 59, tzinfo=UTC), "month", "2026-11"),
        (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), "month", "2026-12"),
        (datetime(2026, 11, 22, 22, 59, tzinfo=UTC), "week", "2026-W47"),
        (datetime(2026, 11, 22, 23, 0, tzinfo=UTC), "week", "2026-W48"),
        # New Year's Day 2027 belongs to the last ISO week of 2026.
        (datetime(2027, 1, 1, 12, 0, tzinfo=UTC), "week", "2026-W53"),
        (datetime(2027, 1, 3, 23, 0, tzinfo=UTC), "week", "2027-W01"),
        # Summer time: Paris is UTC+2.
        (datetime(2026, 6, 30, 22, 0, tzinfo=UTC), "month", "2026-07"),
        (datetime(2026, 6, 30, 22, 0, tzinfo=UTC), "all", "all"),
    ],
)
def test_periods_are_keyed_in_the_programs_time_zone(moment, period, key):
    assert period_key(moment, period, "Europe/Paris") == key
