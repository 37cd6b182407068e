"""How many points a purchase earns and a return takes back: the pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.purchases.earning import (
    BoughtLine,
    EarningLine,
    EarningPolicy,
    Promotion,
    earn,
    earn_by_tier,
    points_to_reverse,
    purchase_points,
)

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ONE_PER_EURO = EarningPolicy(points_per_unit=Decimal("1"))
BEAUTY_DOUBLE = EarningPolicy(points_per_unit=Decimal("1"), category_multipliers={"beauty": Decimal("2")})


def points(
    policy: EarningPolicy,
    total: str,
    lines: list[tuple[str, str | None]] = [],  # noqa: B006 - never mutated
    *,
    channel: str = "store",
    at: datetime = AT,
) -> int:
    """``purchase_points`` with amounts written as strings and lines as ``(amount, category)``."""
    return purchase_points(
        policy,
        total=Decimal(total),
        lines=[EarningLine(amount=Decimal(amount), category=category) for amount, category in lines],
        channel=channel,
        occurred_at=at,
    )


def with_promotions(*promotions: Promotion, policy: EarningPolicy = BEAUTY_DOUBLE) -> EarningPolicy:
    return EarningPolicy(
        points_per_unit=policy.points_per_unit,
        minimum_amount=policy.minimum_amount,
        category_multipliers=policy.category_multipliers,
        promotions=promotions,
    )


@pytest.mark.parametrize(
    ("total", "expected"),
    [("0.00", 0), ("0.99", 0), ("1.00", 1), ("1.99", 1), ("45.90", 45), ("99.99", 99), ("100.00", 100)],
)
def test_base_rate_earns_one_point_per_whole_euro_rounded_down(total, expected):
    assert points(ONE_PER_EURO, total) == expected


@pytest.mark.parametrize(
    ("rate", "total", "expected"),
    [("0.5", "3.00", 1), ("0.5", "4.00", 2), ("1.5", "1.99", 2), ("1.5", "2.00", 3), ("10", "0.19", 1), ("0", "500.00", 0)],
)
def test_base_rate_may_be_fractional_and_rounds_down(rate, total, expected):
    assert points(EarningPolicy(points_per_unit=Decimal(rate)), total) == expected


def test_category_multiplier_applies_only_to_lines_of_that_category():
    assert points(BEAUTY_DOUBLE, "20.00", [("10.00", "beauty"), ("10.00", "shoes")]) == 30


def test_line_without_category_earns_at_the_base_rate():
    assert points(BEAUTY_DOUBLE, "20.00", [("10.00", None), ("10.00", "beauty")]) == 30


def test_points_are_rounded_down_once_for_the_whole_purchase_not_per_line():
    assert points(ONE_PER_EURO, "1.20", [("0.60", "a"), ("0.60", "b")]) == 1


def test_receipt_discount_lowers_every_line_in_proportion():
    # 40.00 of goods paid 30.00: the beauty half is worth 15.00, doubled.
    assert points(BEAUTY_DOUBLE, "30.00", [("20.00", "beauty"), ("20.00", "shoes")]) == 45


@pytest.mark.parametrize(
    ("total", "lines", "expected"),
    [
        ("10.00", [("10.00", None)] * 3, 10),
        ("1.00", [("1.00", None)] * 3, 1),
        ("20.00", [("10.00", "beauty")] * 3, 40),
        ("7.00", [("1.00", None)] * 7, 7),
    ],
)
def test_lines_scaled_to_the_total_earn_exactly_the_total_points(total, lines, expected):
    assert points(BEAUTY_DOUBLE, total, lines) == expected


@pytest.mark.parametrize("lines", [[], [("0.00", "beauty")]], ids=["no lines", "free lines"])
def test_purchase_without_priced_lines_earns_its_total_at_the_base_rate(lines):
    assert points(BEAUTY_DOUBLE, "12.50", lines) == 12


@pytest.mark.parametrize(("total", "expected"), [("9.99", 0), ("10.00", 10), ("10.01", 10)])
def test_purchase_below_the_minimum_amount_earns_nothing(total, expected):
    policy = EarningPolicy(points_per_unit=Decimal("1"), minimum_amount=Decimal("10.00"))
    assert points(policy, total) == expected


START, END = AT, AT + timedelta(days=7)
TRIPLE_WEEK = Promotion(multiplier=Decimal("3"), starts_at=START, ends_at=END)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (START - timedelta(microseconds=1), 10),
        (START, 30),
        (END - timedelta(microseconds=1), 30),
        (END, 10),
    ],
    ids=["just before start", "at start", "just before end", "at end"],
)
def test_promotion_window_includes_its_start_and_excludes_its_end(at, expected):
    assert points(with_promotions(TRIPLE_WEEK), "10.00", at=at) == expected


def test_open_ended_promotion_applies_at_any_time():
    promotion = Promotion(multiplier=Decimal("2"))
    assert points(with_promotions(promotion), "10.00", at=AT + timedelta(days=3650)) == 20


@pytest.mark.parametrize(("channel", "expected"), [("web", 30), ("store", 10), ("app", 10)])
def test_promotion_limited_to_a_channel_applies_only_there(channel, expected):
    promotion = Promotion(multiplier=Decimal("3"), channel="web")
    assert points(with_promotions(promotion), "10.00", channel=channel) == expected


def test_promotion_limited_to_a_category_multiplies_only_those_lines():
    promotion = Promotion(multiplier=Decimal("3"), category="shoes")
    assert points(with_promotions(promotion), "20.00", [("10.00", "shoes"), ("10.00", "textile")]) == 40


def test_largest_promotion_wins_and_promotions_do_not_stack():
    promotions = (Promotion(multiplier=Decimal(multiplier)) for multiplier in ("2", "3", "1.5"))
    assert points(with_promotions(*promotions), "10.00") == 30


def test_promotion_multiplies_the_category_multiplier():
    assert points(with_promotions(Promotion(multiplier=Decimal("3"))), "10.00", [("10.00", "beauty")]) == 60


def test_promotion_outside_its_scope_does_not_hide_a_smaller_one_in_scope():
    promotions = (Promotion(multiplier=Decimal("5"), channel="web"), Promotion(multiplier=Decimal("2")))
    assert points(with_promotions(*promotions), "10.00", channel="store") == 20


@pytest.mark.parametrize(
    ("awarded", "already", "total", "returned", "expected"),
    [
        (45, 0, "45.90", "0.00", 0),
        (45, 0, "45.90", "1.01", 0),
        (45, 0, "45.90", "1.02", 1),
        (45, 0, "45.90", "22.95", 22),
        (45, 22, "45.90", "45.90", 23),
        (45, 0, "45.90", "45.90", 45),
        (45, 45, "45.90", "45.90", 0),
        (10, 0, "0.00", "0.00", 0),
        (0, 0, "12.00", "12.00", 0),
    ],
)
def test_points_to_reverse_follow_the_cumulative_returned_share(awarded, already, total, returned, expected):
    reversed_now = points_to_reverse(
        awarded=awarded, already_reversed=already, total=Decimal(total), returned_amount=Decimal(returned)
    )
    assert reversed_now == expected


def test_points_to_reverse_is_never_negative():
    assert points_to_reverse(awarded=45, already_reversed=30, total=Decimal("45.90"), returned_amount=Decimal("10.00")) == 0


@given(
    awarded=st.integers(0, 100_000),
    cents=st.lists(st.integers(1, 50_000), min_size=1, max_size=12),
)
def test_partial_returns_never_drift_and_a_full_return_reverses_exactly_what_was_awarded(awarded, cents):
    total = Decimal(sum(cents)) / 100
    reversed_so_far, returned = 0, Decimal("0")
    for part in cents:
        returned += Decimal(part) / 100
        reversed_so_far += points_to_reverse(
            awarded=awarded, already_reversed=reversed_so_far, total=total, returned_amount=returned
        )
        assert reversed_so_far == awarded * int(returned * 100) // int(total * 100)
    assert reversed_so_far == awarded


@given(
    total=st.integers(1, 1_000_000),
    lines=st.lists(st.tuples(st.integers(0, 500_000), st.sampled_from([None, "beauty", "shoes"])), min_size=1, max_size=8),
    tier=st.sampled_from(["1", "1.25", "1.5"]),
)
def test_the_lines_share_out_the_purchases_points_each_within_a_point_of_its_exact_share(total, lines, tier):
    earning_lines = [EarningLine(amount=Decimal(cents) / 100, category=category) for cents, category in lines]
    kwargs = {"total": Decimal(total) / 100, "lines": earning_lines, "channel": "store", "occurred_at": AT}
    earned = earn(BEAUTY_DOUBLE, tier_multiplier=Decimal(tier), **kwargs)
    assert earned.points == purchase_points(BEAUTY_DOUBLE, tier_multiplier=Decimal(tier), **kwargs)
    assert len(earned.by_line) == len(lines)
    if sum(cents for cents, _ in lines) == 0:
        assert earned.by_line == (0,) * len(lines)
        return
    assert sum(earned.by_line) == earned.points
    line_sum = sum(cents for cents, _ in lines)
    for (cents, category), line_points in zip(lines, earned.by_line, strict=True):
        multiplier = 2 if category == "beauty" else 1
        exact = Fraction(cents, line_sum) * Fraction(total, 100) * multiplier * Fraction(tier)
        assert floor(exact) <= line_points <= floor(exact) + 1


@given(
    total=st.integers(0, 1_000_000),
    lines=st.lists(st.tuples(st.integers(0, 500_000), st.sampled_from([None, "beauty", "shoes"])), max_size=8),
)
def test_each_tier_earns_by_earn_by_tier_what_earn_gives_it_alone(total, lines):
    earning_lines = [EarningLine(amount=Decimal(cents) / 100, category=category) for cents, category in lines]
    kwargs = {"total": Decimal(total) / 100, "lines": earning_lines, "channel": "store", "occurred_at": AT}
    multipliers = {"basic": Decimal("1"), "silver": Decimal("1.25"), "gold": Decimal("1.5"), "club": Decimal("1.25")}
    policy = with_promotions(Promotion(multiplier=Decimal("3"), category="shoes"))
    by_tier = earn_by_tier(policy, multipliers, **kwargs)
    assert by_tier == {code: earn(policy, tier_multiplier=multiplier, **kwargs) for code, multiplier in multipliers.items()}


def test_returned_lines_take_back_what_they_earned_and_the_rest_of_an_amount_in_proportion():
    # The README's basket: the lipstick earned 40 (beauty, double), the two socks 25.
    lipstick = BoughtLine(amount=Decimal("20.00"), points=40, quantity=1, returned_quantity=0)
    socks = BoughtLine(amount=Decimal("25.90"), points=25, quantity=2, returned_quantity=1)
    basket = {"awarded": 65, "already_reversed": 0, "total": Decimal("45.90")}
    assert points_to_reverse(**basket, returned_amount=Decimal("12.95"), lines=[lipstick, socks]) == 12
    # 10.00 more came back by amount: 65 × 10.00 / 45.90 = 14.2 more.
    assert points_to_reverse(**basket, returned_amount=Decimal("22.95"), lines=[lipstick, socks]) == 26
    assert points_to_reverse(**basket, returned_amount=Decimal("45.90"), lines=[lipstick, socks]) == 65
