"""The notifications' in-process reactions: promised purchase bonuses are kept by the purchase."""

from __future__ import annotations

from loyalty import outbox
from loyalty.events import PurchaseRecorded
from notifications.journeys.bonuses import credit_purchase_bonus


def register_handlers() -> None:
    outbox.subscribe(PurchaseRecorded, credit_purchase_bonus)
