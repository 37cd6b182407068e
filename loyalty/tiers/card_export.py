"""The card issuances as CSV, one card a line, for the card printer."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from loyalty.tiers.models import CardIssuance

COLUMNS = ("id", "member_id", "first_name", "last_name", "tier_code", "card_number", "status", "created_at")


def cards_csv(cards: Iterable[CardIssuance]) -> str:
    """The cards, with their member's name, under a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for card in cards:
        writer.writerow(
            [card.id, card.member_id, card.member.first_name, card.member.last_name, card.tier_code,
             card.card_number, card.status, card.created_at.isoformat()]
        )  # fmt: skip
    return buffer.getvalue()
