"""Every mapped table, imported so that ``Base.metadata`` is complete (Alembic, ``loyalty init``, tests)."""

from app.auth.models import ApiClient, MemberSession
from app.idempotency import IdempotencyRecord
from loyalty.db import Base
from loyalty.engagement.models import Engagement, EngagementAction
from loyalty.ledger.models import LedgerEntry, PointLot
from loyalty.members.models import Member
from loyalty.outbox import OutboxEvent
from loyalty.program.models import EarningRule, ProgramSettings
from loyalty.purchases.models import Purchase, PurchaseLine, PurchaseReturn
from loyalty.tiers.models import CardIssuance, Tier, TierChange
from rewards.catalog.models import Reward
from rewards.thresholds.models import PointThreshold
from rewards.vouchers.models import Voucher

__all__ = [
    "ApiClient",
    "Base",
    "CardIssuance",
    "EarningRule",
    "Engagement",
    "EngagementAction",
    "IdempotencyRecord",
    "LedgerEntry",
    "Member",
    "MemberSession",
    "OutboxEvent",
    "PointLot",
    "PointThreshold",
    "ProgramSettings",
    "Purchase",
    "PurchaseLine",
    "PurchaseReturn",
    "Reward",
    "Tier",
    "TierChange",
    "Voucher",
]
