"""The status document: one answer to "where does this member stand", read by the app, the web and
the till alike, so that a status shown in one place is the status recognised in every other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.engagement.score import EngagementStanding, member_engagement
from loyalty.i18n import Translations
from loyalty.ledger.models import PointLot
from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.tiers.operations import TierView, load_ladder, qualifying_points
from rewards.catalog.models import Reward
from rewards.catalog.operations import catalog_for, list_rewards
from rewards.thresholds.operations import next_threshold


@dataclass(frozen=True)
class CurrentTier:
    code: str
    name: str
    since: datetime
    benefits: tuple[str, ...]
    multiplier: Decimal
    translations: Translations


@dataclass(frozen=True)
class NextTier:
    tier: TierView
    points_needed: int
    #: Share of the way from the current tier's threshold to the next one, 0 to 1.
    progress: float


@dataclass(frozen=True)
class NextThreshold:
    points: int
    reward: Reward | None
    points_needed: int


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_at: datetime


@dataclass(frozen=True)
class MemberStatus:
    member: Member
    qualifying_points: int
    tier: CurrentTier
    next_tier: NextTier | None
    next_threshold: NextThreshold | None
    expiring: Expiring | None
    #: Rewards the member may redeem now and can afford, cheapest first.
    rewards_available: list[Reward]
    #: The engagement score and level now; None when the program keeps no score.
    engagement: EngagementStanding | None


def member_status(session: Session, member: Member, *, now: datetime) -> MemberStatus:
    """Balance, pending, lifetime and qualifying points; tier and next tier; next threshold; points
    expiring within the program's notice period; rewards the member can redeem now; the engagement
    score and level."""
    settings = get_settings(session)
    ladder = load_ladder(session)
    tier = ladder.get(member.tier_code)
    qualifying = qualifying_points(session, member.id, now)
    following = ladder.above(tier)
    next_tier = None
    if following is not None:
        span = following.threshold - tier.threshold
        done = min(max(qualifying - tier.threshold, 0), span)
        next_tier = NextTier(
            tier=following,
            points_needed=max(following.threshold - qualifying, 0),
            progress=round(done / span, 4) if span else 1.0,
        )
    rewards = list_rewards(session)
    threshold = next_threshold(session, member.points_balance)
    upcoming = None
    if threshold is not None:
        reward = next((reward for reward in rewards if reward.code == threshold.reward_code), None)
        upcoming = NextThreshold(
            points=threshold.points, reward=reward, points_needed=threshold.points - member.points_balance
        )
    expiring = None
    soon = session.execute(
        select(func.sum(PointLot.remaining), func.min(PointLot.expires_at)).where(
            PointLot.member_id == member.id,
            PointLot.remaining > 0,
            PointLot.expires_at <= now + timedelta(days=settings.expiry_notice_days),
        )
    ).one()
    if soon[0]:
        assert soon[1] is not None  # only lots with an expiry date pass `expires_at <=`: a sum has a first date
        expiring = Expiring(points=int(soon[0]), expires_at=soon[1])
    return MemberStatus(
        member=member,
        qualifying_points=qualifying,
        tier=CurrentTier(
            code=tier.code,
            name=tier.name,
            since=member.tier_since,
            benefits=tier.benefits,
            multiplier=tier.multiplier,
            translations=tier.translations,
        ),
        next_tier=next_tier,
        next_threshold=upcoming,
        expiring=expiring,
        rewards_available=[
            item.reward for item in catalog_for(session, member, now=now, rewards=rewards) if item.affordable
        ],
        engagement=member_engagement(session, member.id, now=now),
    )
