"""The card issuances as CSV, one card a line, for the card printer."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from loyalty.tiers.models import CardIssuance

COLUMNS = (
    "id", "member_id", "first_name", "last_name", "tier_code", "card_number", "status", "created_at",
    "address_line1", "address_line2", "postcode", "city", "country",
)  # fmt: skip


def cards_csv(cards: Iterable[CardIssuance]) -> str:
    """The cards, with their member's name and the postal address the card is sent to, under a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for card in cards:
        writer.writerow(
            [card.id, card.member_id, card.member.first_name, card.member.last_name, card.tier_code,
             card.card_number, card.status, card.created_at.isoformat(), card.member.address_line1 or "",
             card.member.address_line2 or "", card.member.address_postcode or "", card.member.address_city or "",
             card.member.address_country or ""]
        )  # fmt: skip
    return buffer.getvalue()
