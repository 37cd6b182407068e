"""What the audit log watches: the program's configuration, scenarios, support's changes to members,
staff accounts, API clients and webhook subscriptions (:mod:`loyalty.audit` writes the entries).

The back office names its staff member as the actor (:mod:`app.backoffice.security`); the API names
admin clients (:func:`app.auth.access.require`); the CLI names itself.
"""

from __future__ import annotations

from app.auth.models import ApiClient
from app.backoffice.models import StaffAccount
from loyalty import audit
from loyalty.engagement.models import EngagementAction, EngagementScoreSettings
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.program.models import EarningRule, ProgramSettings
from loyalty.tiers.models import CardIssuance, Tier
from notifications.messages.models import Message
from notifications.pressure.models import BlackoutPeriod, Complaint, PressureSettings
from notifications.scenarios.models import MessageTemplate, Scenario, ScenarioVersion
from notifications.webhooks.models import WebhookDelivery, WebhookSubscription
from rewards.badges.models import Badge, BadgeLevel
from rewards.catalog.models import Reward
from rewards.challenges.models import Challenge, ChallengeStep
from rewards.games.models import Game, GamePrize
from rewards.leaderboards.models import Leaderboard
from rewards.quizzes.models import Quiz, QuizQuestion
from rewards.streaks.models import Streak
from rewards.thresholds.models import PointThreshold

AUDITED: tuple[type, ...] = (
    # The program's configuration.
    ProgramSettings, EarningRule, Tier, PointThreshold, Reward, EngagementAction, EngagementScoreSettings,
    Badge, BadgeLevel, Challenge, ChallengeStep, Streak, Quiz, QuizQuestion, Game, GamePrize, Leaderboard,
    # Scenarios and marketing pressure.
    Scenario, ScenarioVersion, MessageTemplate, PressureSettings, BlackoutPeriod,
    # Members: profile and consents, manual adjustments (ledger entries), complaints, cards.
    Member, LedgerEntry, Complaint, CardIssuance,
    # Messages sent again (a dead letter redriven); webhook subscriptions and their redriven deliveries.
    Message, WebhookSubscription, WebhookDelivery,
    # Who may act.
    StaffAccount, ApiClient,
)


def init_app() -> None:
    audit.watch(*AUDITED)
