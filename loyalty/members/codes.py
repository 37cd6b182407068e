"""Card numbers and referral codes: random, unguessable, and easy to read aloud or key in."""

from __future__ import annotations

import secrets

CARD_PREFIX = "29"  # in-store (restricted circulation) number range, as used by retail loyalty cards
CARD_LENGTH = 16
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I; 32 letters
REFERRAL_LENGTH = 8


def luhn_check_digit(digits: str) -> str:
    """The Luhn digit that makes ``digits`` + it valid, so a mistyped card number is caught at the till."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number() -> str:
    random_digits = CARD_LENGTH - len(CARD_PREFIX) - 1
    body = CARD_PREFIX + str(secrets.randbelow(10**random_digits)).zfill(random_digits)
    return body + luhn_check_digit(body)


def new_referral_code() -> str:
    """Eight characters of a 32-letter alphabet: five random bits each (one call for the code; an
    import draws a million of them)."""
    return "".join(REFERRAL_ALPHABET[byte % 32] for byte in secrets.token_bytes(REFERRAL_LENGTH))
