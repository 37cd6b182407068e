"""Card numbers (Luhn-checked) and referral codes."""

from __future__ import annotations

import pytest

from loyalty.members.codes import (
    CARD_LENGTH,
    CARD_PREFIX,
    REFERRAL_ALPHABET,
    REFERRAL_LENGTH,
    is_valid_card_number,
    luhn_check_digit,
    new_card_number,
    new_referral_code,
)


@pytest.mark.parametrize(
    ("digits", "check"),
    [("7992739871", "3"), ("0", "0"), ("1", "8"), ("18", "2"), ("290000000000000", "7"), ("453201511283036", "6")],
)
def test_luhn_check_digit_matches_the_reference_algorithm(digits, check):
    assert luhn_check_digit(digits) == check


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("79927398713", True),
        ("79927398710", False),
        ("4532015112830366", True),
        ("4532015112830367", False),
        ("00", True),
        ("0", False),
        ("", False),
        ("7992739871a", False),
        ("7992 739871", False),
    ],
)
def test_card_number_validity(number, valid):
    assert is_valid_card_number(number) is valid


def test_new_card_number_is_sixteen_digits_in_the_store_range_with_a_valid_check_digit():
    number = new_card_number()
    assert len(number) == CARD_LENGTH and number.isdigit()
    assert number.startswith(CARD_PREFIX)
    assert is_valid_card_number(number)


def test_any_single_mistyped_digit_of_a_card_number_is_caught():
    number = new_card_number()
    for position, original in enumerate(number):
        for digit in "0123456789":
            if digit != original:
                typo = number[:position] + digit + number[position + 1 :]
                assert not is_valid_card_number(typo), typo


def test_swapped_neighbouring_digits_are_caught_except_09_and_90():
    number = new_card_number()
    for position in range(len(number) - 1):
        pair = number[position : position + 2]
        if pair[0] == pair[1] or pair in ("09", "90"):
            continue
        swapped = number[:position] + pair[::-1] + number[position + 2 :]
        assert not is_valid_card_number(swapped), swapped


def test_new_card_numbers_do_not_repeat():
    assert len({new_card_number() for _ in range(500)}) == 500


def test_referral_code_uses_only_unambiguous_characters():
    assert not set("01IO") & set(REFERRAL_ALPHABET)
    for _ in range(100):
        code = new_referral_code()
        assert len(code) == REFERRAL_LENGTH
        assert set(code) <= set(REFERRAL_ALPHABET)


def test_new_referral_codes_do_not_repeat():
    assert len({new_referral_code() for _ in range(500)}) == 500
