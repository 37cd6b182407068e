"""Every mapped table, imported so that ``Base.metadata`` is complete (Alembic, ``loyalty init``, tests)."""

from app.auth.models import ApiClient, MemberSession
from app.backoffice.models import StaffAccount, StaffLoginFailure
from app.idempotency import IdempotencyRecord
from loyalty.audit import AuditEntry
from loyalty.consumers import OutboxCursor, OutboxDeadLetter
from loyalty.customevents.models import CustomEvent, CustomEventType
from loyalty.db import Base
from loyalty.engagement.models import Engagement, EngagementAction, EngagementScore, EngagementScoreSettings
from loyalty.imports.models import ImportedRef, ImportJob
from loyalty.ledger.models import LedgerEntry, PointLot, QualifyingMonth
from loyalty.members.models import Member
from loyalty.outbox import OutboxEvent
from loyalty.program.models import EarningRule, ProgramSettings
from loyalty.receipts.models import Purchase, PurchaseLine, PurchaseReturn
from loyalty.segments.models import AwardCampaign, MemberCategory, MemberPurchaseMonth, MemberPurchaseWindow, PurchaseWindowsAnchor, Segment
from loyalty.tiers.models import CardIssuance, Tier, TierChange
from notifications.journeys.models import Journey, PurchaseBonus
from notifications.messages.models import Message, PushSubscription
from notifications.pressure.models import BlackoutPeriod, Complaint, PressureSettings
from notifications.privacy.models import Erasure
from notifications.scenarios.models import MessageTemplate, Scenario, ScenarioVersion
from notifications.scheduler.models import JobRun
from notifications.webhooks.models import WebhookDelivery, WebhookSubscription
from reporting.models import DashboardDay, DashboardDayRun
from rewards.badges.models import Badge, BadgeLevel, MemberBadge, MemberMetric
from rewards.catalog.models import Reward
from rewards.challenges.models import Challenge, ChallengeParticipation, ChallengeProgress, ChallengeStep
from rewards.games.models import Game, GamePlay, GamePlayCredit, GamePrize
from rewards.leaderboards.models import Leaderboard, LeaderboardProfile, LeaderboardScore
from rewards.quizzes.models import Quiz, QuizAttempt, QuizQuestion
from rewards.streaks.models import MemberStreak, Streak
from rewards.thresholds.models import PointThreshold
from rewards.vouchers.models import Voucher

__all__ = [
    "WebhookDelivery",
    "WebhookSubscription",
    "AuditEntry",
    "DashboardDay",
    "DashboardDayRun",
    "MemberCategory",
    "MemberPurchaseMonth",
    "MemberPurchaseWindow",
    "PurchaseWindowsAnchor",
    "StaffAccount",
    "StaffLoginFailure",
    "BlackoutPeriod",
    "Complaint",
    "Journey",
    "JobRun",
    "Message",
    "MessageTemplate",
    "PressureSettings",
    "PurchaseBonus",
    "PushSubscription",
    "Scenario",
    "ScenarioVersion",
    "Segment",
    "ApiClient",
    "AwardCampaign",
    "Base",
    "CardIssuance",
    "CustomEvent",
    "CustomEventType",
    "EarningRule",
    "Engagement",
    "EngagementAction",
    "EngagementScore",
    "EngagementScoreSettings",
    "Erasure",
    "Badge",
    "BadgeLevel",
    "MemberBadge",
    "MemberMetric",
    "Challenge",
    "ChallengeParticipation",
    "ChallengeProgress",
    "ChallengeStep",
    "MemberStreak",
    "Streak",
    "Game",
    "GamePlay",
    "GamePlayCredit",
    "GamePrize",
    "IdempotencyRecord",
    "ImportedRef",
    "ImportJob",
    "LedgerEntry",
    "Leaderboard",
    "LeaderboardProfile",
    "LeaderboardScore",
    "Member",
    "MemberSession",
    "OutboxCursor",
    "OutboxDeadLetter",
    "OutboxEvent",
    "PointLot",
    "PointThreshold",
    "ProgramSettings",
    "Purchase",
    "PurchaseLine",
    "PurchaseReturn",
    "Quiz",
    "QuizAttempt",
    "QuizQuestion",
    "Reward",
    "Tier",
    "TierChange",
    "Voucher",
]
