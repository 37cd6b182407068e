"""Example bodies of the main requests, shown in the OpenAPI document (the README's tour)."""

from __future__ import annotations

from typing import Any

CLIENT_TOKEN: dict[str, Any] = {"client_id": "cl_8f3a9c2e41d07b5a6e9f1c3d", "client_secret": "s3cr3t-shown-once"}
LOGIN: dict[str, Any] = {"email": "jean@example.com", "password": "correct-horse"}
ENROLMENT: dict[str, Any] = {
    "email": "jean@example.com",
    "first_name": "Jean",
    "last_name": "Duchemin",
    "password": "correct-horse",
    "consents": {"email": True, "sms": True},
}
PURCHASE: dict[str, Any] = {
    "store_code": "S1",
    "receipt_no": "0001",
    "member_id": 1,
    "occurred_at": "2026-11-22T10:00:00+01:00",
    "currency": "EUR",
    "total": "45.90",
    "channel": "store",
    "lines": [
        {"sku": "LIP-1", "category": "beauty", "quantity": 1, "unit_price": "20.00"},
        {"sku": "SOCK-1", "quantity": 2, "unit_price": "12.95"},
    ],
}
RETURN: dict[str, Any] = {"return_no": "RET-1", "lines": [{"sku": "SOCK-1", "quantity": 1}]}
ENGAGEMENT: dict[str, Any] = {
    "member_id": 1,
    "action": "store_visit",
    "ref": "visit-2026-11-22",
    "occurred_at": "2026-11-22T10:00:00+01:00",
}
REDEMPTION: dict[str, Any] = {"reward_code": "FREESHIP"}
VOUCHER_USE: dict[str, Any] = {"store_code": "S1", "receipt_no": "0002"}
