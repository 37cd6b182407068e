"""The status document: one answer to "where does this member stand", read by the app, the web and
the till alike, so that a status shown in one place is the status recognised in every other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session

from loyalty.engagement.models import EngagementScore
from loyalty.engagement.score import EngagementStanding, standing
from loyalty.errors import NotFound
from loyalty.i18n import Translations
from loyalty.ledger.models import PointLot
from loyalty.members.models import MEMBERS, Member
from loyalty.program.operations import get_settings
from loyalty.tiers.operations import (
    QUALIFYING_POINTS,
    TierView,
    load_ladder,
    qualifying_window,
    window_start,
)
from rewards.catalog.operations import (
    RewardView,
    catalog_views,
    in_stock_now,
    redeemable,
)
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
    reward: RewardView | None
    points_needed: int


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_at: datetime


@dataclass(frozen=True)
class StatusMember:
    """What the status document shows of the member row: its balances and its tier."""

    id: int
    points_balance: int
    pending_points: int
    lifetime_points: int
    tier_code: str
    tier_since: datetime

    @classmethod
    def of(cls, member: Member) -> StatusMember:
        return cls(*(getattr(member, column.name) for column in _MEMBER_COLUMNS))


@dataclass(frozen=True)
class MemberStatus:
    member: StatusMember
    qualifying_points: int
    tier: CurrentTier
    next_tier: NextTier | None
    next_threshold: NextThreshold | None
    expiring: Expiring | None
    #: Rewards the member may redeem now and can afford, cheapest first.
    rewards_available: list[RewardView]
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
    """The status document in one statement, the member's balances and tier with its figures, and the
    catalog from the process's copy (a second statement when a reward it offers has a limited stock:
    :func:`in_stock_now`)."""
    row = session.connection().execute(_MEMBER_WITH_FIGURES, _figure_values(session, member_id, now)).one_or_none()
    if row is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    shown = len(_MEMBER_COLUMNS)
    return _document(session, StatusMember(*row[:shown]), _Figures(*row[shown:]), now)


def member_status(session: Session, member: Member, *, now: datetime) -> MemberStatus:
    """The status document of a member already read: one statement for its figures (and one for the
    stock of the rewards it offers, when one has a limited stock)."""
    figures = session.execute(_FIGURES, _figure_values(session, member.id, now)).one()
    return _document(session, StatusMember.of(member), _Figures(*figures), now)


def _figure_columns() -> tuple[ColumnElement[Any], ...]:
    """Qualifying points (from the months kept for them), the points expiring within the notice
    period and their first date (the open lots), the engagement score and its date: columns
    correlated with ``members``, whose values are :func:`_figure_values`."""
    soon = (
        PointLot.member_id == Member.id,
        PointLot.remaining > 0,
        PointLot.expires_at <= bindparam("expiring_by"),
    )
    score = select(EngagementScore.score, EngagementScore.as_of).where(EngagementScore.member_id == Member.id)
    return (
        QUALIFYING_POINTS,
        select(func.sum(PointLot.remaining)).where(*soon).scalar_subquery(),
        select(func.min(PointLot.expires_at)).where(*soon).scalar_subquery(),
        score.with_only_columns(EngagementScore.score).scalar_subquery(),
        score.with_only_columns(EngagementScore.as_of).scalar_subquery(),
    )


#: The member's columns the document shows (:class:`StatusMember`, in its order): read as columns, not as
#: the mapped class, whose loading (the row's 36 columns, an object with its state) cost more CPU than
#: the rest of the statement.
_MEMBER_COLUMNS = (
    MEMBERS.c.id, MEMBERS.c.points_balance, MEMBERS.c.pending_points, MEMBERS.c.lifetime_points,
    MEMBERS.c.tier_code, MEMBERS.c.tier_since,
)  # fmt: skip
# Built once rather than on each read: building them cost about as much CPU as running them.
_FIGURES = select(*_figure_columns()).where(Member.id == bindparam("member_id"))
_MEMBER_WITH_FIGURES = select(*_MEMBER_COLUMNS, *_figure_columns()).where(MEMBERS.c.id == bindparam("member_id"))


def _figure_values(session: Session, member_id: int, now: datetime) -> dict[str, Any]:
    settings = get_settings(session)
    return {
        "member_id": member_id,
        "expiring_by": now + timedelta(days=settings.expiry_notice_days),
        **qualifying_window(window_start(settings, now)),
    }


def _document(session: Session, member: StatusMember, figures: _Figures, now: datetime) -> MemberStatus:
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
    rewards = catalog_views(session)
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
        rewards_available=in_stock_now(session, [
            reward for reward in redeemable(session, member.tier_code, now=now, rewards=rewards)
            if reward.cost_points <= member.points_balance
        ]),  # fmt: skip
        engagement=standing(session, figures.score, figures.score_as_of, now=now),
    )
