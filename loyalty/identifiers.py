"""What an identifier may contain: one rule per kind, always matched against the whole string.

A receipt number, a store code, a card number or a reward code is a key: two spellings of the same
thing must never become two things. So an identifier is checked as a whole (``re.fullmatch``: no
``$`` that lets a final newline through), against ASCII only (no full-width digits or look-alike
letters), and is never trimmed: surrounding whitespace is refused, not silently taken for another key.
Codes the program already reads case-insensitively (voucher and referral codes, upper-cased on lookup)
stay so; every other identifier is case-sensitive, as the till or the source system sent it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IdentifierRule:
    """One kind of identifier: its pattern (anchored, for readers of the OpenAPI document too) and
    what to tell a caller who sent something else."""

    pattern: str
    message: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.ASCII))

    def matches(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None


def _code(max_length: int) -> IdentifierRule:
    return IdentifierRule(
        rf"^[A-Za-z0-9][A-Za-z0-9._/-]{{0,{max_length - 1}}}$",
        f"1 to {max_length} letters, digits and . _ / -, starting with a letter or digit.",
    )


def _token(max_length: int) -> IdentifierRule:
    return IdentifierRule(rf"^[!-~]{{1,{max_length}}}$", f"1 to {max_length} visible ASCII characters, no spaces.")


#: Store codes.
STORE_CODE = _code(32)
#: Receipt and return numbers, SKUs, product categories, external (CRM) ids.
CODE = _code(64)
#: Ids chosen by another system (engagement refs, provider message ids): visible ASCII, no spaces.
REF = _token(128)
PROVIDER_REF = _token(200)
#: The send keys of messages (``j12.3.sms``).
SEND_KEY = _code(96)
#: ``Idempotency-Key`` headers.
IDEMPOTENCY_KEY = _token(200)
#: Reward, badge, challenge, game, prize, quiz and streak codes; voucher codes.
REWARD_CODE = IdentifierRule(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", "1 to 64 letters, digits, _ and -.")
#: Engagement action keys, scenario and template keys.
KEY = IdentifierRule(r"^[a-z][a-z0-9_]{0,63}$", "Lower-case letters, digits and _, starting with a letter.")
#: Tier codes.
TIER_CODE = IdentifierRule(r"^[a-z0-9][a-z0-9_-]{0,31}$", "1 to 32 lower-case letters, digits, _ and -.")
#: Leaderboard keys.
BOARD_KEY = IdentifierRule(r"^[a-z0-9][a-z0-9_-]{0,63}$", "1 to 64 lower-case letters, digits, _ and -.")
#: Member cards (generated ones are 16 digits; imported ones may hold letters and dashes).
CARD_NUMBER = IdentifierRule(r"^[0-9A-Za-z-]{4,32}$", "4 to 32 letters, digits or dashes.")
#: Referral codes: read case-insensitively.
REFERRAL_CODE = IdentifierRule(r"^[A-Za-z0-9]{4,16}$", "4 to 16 letters or digits.")
#: Phone numbers as people write them: digits, spaces, dots, dashes, brackets, ending in a digit.
PHONE = IdentifierRule(r"^\+?[0-9][0-9 ().-]{2,29}[0-9]$", "Not a valid phone number.")
#: Currencies (ISO 4217).
CURRENCY = IdentifierRule(r"^[A-Z]{3}$", "An ISO 4217 code: EUR.")
#: Locales.
LOCALE = IdentifierRule(r"^[a-z]{2,3}(-[A-Z]{2})?$", "Not a locale like fr or fr-FR.")
#: Quiz answer choices.
CHOICE_ID = IdentifierRule(r"^[A-Za-z0-9_-]{1,16}$", "1 to 16 letters, digits, _ or -.")
#: API client ids (``cl_…``).
CLIENT_ID = _code(64)
