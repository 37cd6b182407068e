"""The lift and its confidence interval, checked against published worked examples."""

from __future__ import annotations

import pytest

from notifications.messages.lift import lift, wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_the_wilson_interval_matches_the_published_values(successes, trials, low, high) -> None:
    interval = wilson_interval(successes, trials)

    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(
    ("converted", "entered", "reference_converted", "reference_entered", "low", "high"),
    [
        # Newcombe (1998), "Interval estimation for the difference between independent proportions",
        # table II, method 10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0),
        (10, 10, 0, 10, 0.6075, 1.0),
    ],
)
def test_the_interval_of_a_difference_matches_newcombes_method_10(
    converted, entered, reference_converted, reference_entered, low, high
) -> None:
    result = lift(converted, entered, reference_converted, reference_entered)

    assert result is not None
    assert result.difference == pytest.approx(converted / entered - reference_converted / reference_entered)
    assert result.interval.low == pytest.approx(low, abs=5e-5)
    assert result.interval.high == pytest.approx(high, abs=5e-5)


def test_a_lift_whose_interval_holds_zero_is_not_significant() -> None:
    small = lift(6, 40, 4, 40)
    large = lift(600, 4000, 400, 4000)

    assert small is not None and large is not None
    assert small.difference == pytest.approx(large.difference)
    assert small.interval.low < 0 < small.interval.high
    assert not small.is_significant
    assert large.is_significant
    assert large.relative == pytest.approx(0.5)


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    at_90, at_99 = lift(30, 200, 20, 200, confidence=0.90), lift(30, 200, 20, 200, confidence=0.99)

    assert at_90 is not None and at_99 is not None
    assert at_99.interval.low < at_90.interval.low < at_90.interval.high < at_99.interval.high


def test_there_is_no_lift_before_both_groups_have_entries() -> None:
    assert lift(3, 10, 0, 0) is None
    assert lift(0, 0, 3, 10) is None


def test_a_reference_that_converted_nobody_has_no_relative_lift() -> None:
    result = lift(3, 10, 0, 10)

    assert result is not None
    assert result.relative is None


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
    with pytest.raises(ValueError):
        lift(1, 10, 1, 10, confidence=1.0)
