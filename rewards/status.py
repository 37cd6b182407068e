"""The status document: one answer to "where does this member stand", read by the app, the web and
the till alike, so that a status shown in one place is the status recognised in every other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from loyalty.engagement.models import EngagementScore
from loyalty.engagement.score import EngagementStanding, standing
from loyalty.errors import NotFound
from loyalty.i18n import Translations
from loyalty.ledger.models import PointLot
from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.tiers.operations import TierView, load_ladder, qualifying_since, window_start
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


@dataclass(frozen=True)
class _Figures:
    """What the status document reads besides the member row, in the statement that reads it."""

    qualifying: int
    expiring_points: int | None
    expires_at: datetime | None
    score: float | None
    score_as_of: datetime | None


def status_of(session: Session, member_id: int, *, now: datetime) -> MemberStatus:
    """The status document in two statements: the member with its figures, and the catalog."""
    row = session.execute(select(Member, *_figure_columns(session, now)).where(Member.id == member_id)).one_or_none()
    if row is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    return _document(session, row[0], _Figures(*row[1:]), now)


def member_status(session: Session, member: Member, *, now: datetime) -> MemberStatus:
    """The status document of a member already read (one statement for its figures, one for the
    catalog)."""
    figures = session.execute(select(*_figure_columns(session, now)).where(Member.id == member.id)).one()
    return _document(session, member, _Figures(*figures), now)


def _figure_columns(session: Session, now: datetime) -> tuple[ColumnElement[Any], ...]:
    """Qualifying points (from the months kept for them), the points expiring within the notice
    period and their first date (the open lots), the engagement score and its date: columns
    correlated with ``members``."""
    settings = get_settings(session)
    soon = (
        PointLot.member_id == Member.id,
        PointLot.remaining > 0,
        PointLot.expires_at <= now + timedelta(days=settings.expiry_notice_days),
    )
    score = select(EngagementScore.score, EngagementScore.as_of).where(EngagementScore.member_id == Member.id)
    return (
        qualifying_since(window_start(settings, now)),
        select(func.sum(PointLot.remaining)).where(*soon).scalar_subquery(),
        select(func.min(PointLot.expires_at)).where(*soon).scalar_subquery(),
        score.with_only_columns(EngagementScore.score).scalar_subquery(),
        score.with_only_columns(EngagementScore.as_of).scalar_subquery(),
    )


def _document(session: Session, member: Member, figures: _Figures, now: datetime) -> MemberStatus:
    """Balance, pending, lifetime and qualifying points; tier and next tier; next threshold; points
    expiring within the program's notice period; rewards the member can redeem now; the engagement
    score and level."""
    ladder = load_ladder(session, holding=member.tier_code)
    tier = ladder.get(member.tier_code)
    qualifying = int(figures.qualifying)
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
    if figures.expiring_points:
        assert figures.expires_at is not None  # only lots with an expiry date pass `expires_at <=`
        expiring = Expiring(points=int(figures.expiring_points), expires_at=figures.expires_at)
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
        engagement=standing(session, figures.score, figures.score_as_of, now=now),
    )
