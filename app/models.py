"""Every mapped table, imported so that ``Base.metadata`` is complete (Alembic, ``loyalty init``, tests)."""

from app.auth.models import ApiClient, MemberSession
from app.idempotency import IdempotencyRecord
from loyalty.db import Base
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.outbox import OutboxEvent
from loyalty.program.models import EarningRule, ProgramSettings
from loyalty.purchases.models import Purchase, PurchaseLine, PurchaseReturn

__all__ = [
    "ApiClient",
    "Base",
    "EarningRule",
    "IdempotencyRecord",
    "LedgerEntry",
    "Member",
    "MemberSession",
    "OutboxEvent",
    "ProgramSettings",
    "Purchase",
    "PurchaseLine",
    "PurchaseReturn",
]
