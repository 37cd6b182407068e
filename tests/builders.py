"""Request bodies with sensible defaults, for tests to override what matters to them."""

from __future__ import annotations

import itertools
from typing import Any

_sequence = itertools.count(1)


def member_body(**overrides: Any) -> dict[str, Any]:
    number = next(_sequence)
    body: dict[str, Any] = {
        "email": f"member{number}@example.com",
        "first_name": "Jean",
        "last_name": "Duchemin",
        "password": "correct-horse",
        "consents": {"email": True, "sms": True, "push": False},
    }
    body.update(overrides)
    return body


def purchase_body(**overrides: Any) -> dict[str, Any]:
    """A 45.90 EUR receipt at store S1, made at the tests' start instant (NOW)."""
    number = next(_sequence)
    body: dict[str, Any] = {
        "store_code": "S1",
        "receipt_no": f"R{number:06d}",
        "occurred_at": "2026-11-22T09:30:00+00:00",
        "currency": "EUR",
        "total": "45.90",
        "channel": "store",
        "lines": [
            {"sku": "SHOE-42", "category": "shoes", "quantity": 1, "unit_price": "20.00"},
            {"sku": "SOCK-1", "category": "textile", "quantity": 2, "unit_price": "12.95"},
        ],
    }
    body.update(overrides)
    return body
