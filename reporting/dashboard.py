"""The dashboard's figures: each one named, set-based aggregate over indexed columns.

The figures of a period come from :func:`period_figures` (the daily roll-up, and the open days counted
live: :mod:`reporting.daily`); the figures of now (members by tier, in total and their points
outstanding: :func:`members_now`, one index-only scan; members by engagement level) and the distinct
active members are counted on their indexes. Series by day come back
with every day of the period, zeros included. The page only draws what these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from loyalty.engagement.models import ENGAGEMENT_LEVELS, EngagementScore
from loyalty.members.models import Member
from loyalty.program.models import ProgramSettings
from loyalty.receipts.models import Purchase
from loyalty.tiers.models import Tier
from notifications.scenarios.models import Scenario
from reporting.daily import Figures, figures_of
from reporting.period import Period
from rewards.catalog.models import Reward

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MembersNow:
    """Members now: how many in each tier (``tier_code``), and the points of the positive balances."""

    by_tier: dict[str, int]
    points: int

    @property
    def total(self) -> int:
        return sum(self.by_tier.values())


@dataclass(frozen=True)
class MemberCounts:
    #: Enrolled by the end of the period.
    total: int
    #: Enrolled during the period.
    new: int
    #: Members who bought during the period.
    active: int
    new_by_day: list[tuple[date, int]]


@dataclass(frozen=True)
class PurchaseFigures:
    """Purchases of members (anonymous receipts apart), by the day they were made."""

    purchases: int
    revenue: Decimal
    returned: Decimal
    revenue_by_day: list[tuple[date, Decimal]]

    @property
    def net_revenue(self) -> Decimal:
        return self.revenue - self.returned


@dataclass(frozen=True)
class PointsFigures:
    #: Credits of every kind (purchases, bonuses, engagement, adjustments up).
    issued: int
    #: Points spent on rewards.
    redeemed: int
    expired: int
    issued_by_day: list[tuple[date, int]]
    redeemed_by_day: list[tuple[date, int]]


@dataclass(frozen=True)
class Liability:
    """Points members hold now, and what they are worth at the program's value per point."""

    points: int
    point_value: Decimal

    @property
    def money(self) -> Decimal:
        return (Decimal(self.points) * self.point_value).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    sent: int
    delivered: int
    opened: int
    clicked: int


@dataclass(frozen=True)
class ScenarioRevenue:
    key: str
    name: str
    conversions: int
    revenue: Decimal


def period_figures(session: Session, period: Period) -> Figures:
    """The figures by day of ``period`` (:mod:`reporting.daily`), which the functions below read."""
    return figures_of(session, period)


def members_now(session: Session) -> MembersNow:
    """Members in each tier and the points they hold now, in one index-only scan of
    ``ix_members_tier_code`` (which carries the balance)."""
    rows = session.execute(
        select(Member.tier_code, func.count(), func.sum(case((Member.points_balance > 0, Member.points_balance), else_=0)))
        .group_by(Member.tier_code)
    ).all()
    return MembersNow(by_tier={code: n for code, n, _ in rows}, points=sum(int(points or 0) for _, _, points in rows))


def member_counts(session: Session, period: Period, figures: Figures, members: MembersNow, *, now: datetime) -> MemberCounts:
    """Members in total at the end of the period (all members now, less those enrolled since: a range of
    the enrolment index, empty for a period that runs to now), enrolled in the period and by day (the
    figures by day), and members who bought in the period (:func:`active_members`)."""
    since = session.scalar(select(func.count()).where(Member.enrolled_at >= period.ends_at)) or 0
    return MemberCounts(
        total=members.total - since,
        new=figures.total("members.new"),
        active=active_members(session, period, now=now),
        new_by_day=figures.by_day("members.new", period.days),
    )


def active_members(session: Session, period: Period, *, now: datetime) -> int:
    """Members who bought in the period, exactly. For a period that runs to now, those whose last
    purchase is in it (``ix_members_last_purchase_at``: one index entry per active member, not one per
    purchase); for a period over, the distinct buyers of its purchases (``ix_purchases_occurred_at``)."""
    if period.ends_at > now:
        # Nobody has bought after the period yet: a member bought in it when their last purchase is in it.
        return session.scalar(select(func.count()).where(Member.last_purchase_at >= period.starts_at)) or 0
    # The bounds are written into the statement: the plan that suits a period's width (an ordered scan of
    # ``ix_purchases_member_id_occurred_at``, index only, for a long one) is chosen for each period, where a
    # prepared statement's generic plan hashes every purchase's buyer (three times slower over 60 days).
    starts, ends = (bindparam(None, at, type_=Purchase.occurred_at.type, literal_execute=True) for at in (period.starts_at, period.ends_at))
    buyers = (
        select(Purchase.member_id)
        .where(Purchase.occurred_at >= starts, Purchase.occurred_at < ends, Purchase.member_id.is_not(None))
        .distinct()
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(buyers)) or 0


def purchase_figures(period: Period, figures: Figures) -> PurchaseFigures:
    """Members' purchases in the period: how many, their revenue, what was returned of them; revenue by day."""
    return PurchaseFigures(
        purchases=figures.total("purchases.count"),
        revenue=_money(figures.total("purchases.revenue")),
        returned=_money(figures.total("purchases.returned")),
        revenue_by_day=[(day, _money(cents)) for day, cents in figures.by_day("purchases.revenue", period.days)],
    )


def points_figures(period: Period, figures: Figures) -> PointsFigures:
    """Points issued (every credit), redeemed and expired in the period, from the ledger; by day."""
    return PointsFigures(
        issued=figures.total("points.issued"),
        redeemed=figures.total("points.redeemed"),
        expired=figures.total("points.expired"),
        issued_by_day=figures.by_day("points.issued", period.days),
        redeemed_by_day=figures.by_day("points.redeemed", period.days),
    )


def points_liability(session: Session, members: MembersNow) -> Liability:
    """The points members hold now (positive balances), and the program's value of a point."""
    value = session.scalar(select(ProgramSettings.point_value).where(ProgramSettings.id == 1))
    return Liability(points=members.points, point_value=value if value is not None else ZERO)


def tier_distribution(session: Session, members: MembersNow) -> list[tuple[str, int]]:
    """Members in each tier now, lowest tier first (tiers nobody is in included)."""
    counts = dict(members.by_tier)
    tiers = session.execute(select(Tier.code, Tier.name).order_by(Tier.rank)).all()
    return [(name, counts.pop(code, 0)) for code, name in tiers] + sorted(counts.items())


def tier_upgrades(session: Session, figures: Figures) -> list[tuple[str, int]]:
    """Upgrades in the period, by the tier reached (lowest first)."""
    upgrades = figures.by_key("tiers.upgrades")
    tiers = session.execute(select(Tier.code, Tier.name).order_by(Tier.rank)).all()
    return [(name, upgrades[code]) for code, name in tiers if upgrades.get(code)]


def engagement_levels(session: Session) -> list[tuple[str, int]]:
    """Members at each engagement level now (members without a score apart), highest level first."""
    counts = {level: n for level, n in session.execute(select(EngagementScore.level, func.count()).group_by(EngagementScore.level))}
    return [(level, counts.get(level, 0)) for level in ENGAGEMENT_LEVELS]


def rewards_redeemed(session: Session, figures: Figures, *, limit: int = 10) -> list[tuple[str, int, int]]:
    """The rewards members took in the period (vouchers issued: redemptions, thresholds, challenges,
    games), most taken first: name, vouchers, points spent."""
    vouchers, points = figures.by_key("rewards.vouchers"), figures.by_key("rewards.points")
    rows = session.execute(select(Reward.id, Reward.name).where(Reward.id.in_([int(key) for key in vouchers])))
    names = {str(id_): name for id_, name in rows}
    taken = sorted(((names.get(key, key), n, points.get(key, 0)) for key, n in vouchers.items()), key=lambda r: (-r[1], r[0]))
    return taken[:limit]


def message_figures(figures: Figures) -> list[ChannelFigures]:
    """Messages sent in the period, per channel, and how many of them were delivered, opened and
    clicked, counted as the scenarios' KPIs count them (in-app copies of a message sent on another
    channel apart)."""
    counts = [figures.by_key(f"messages.{name}") for name in ("sent", "delivered", "opened", "clicked")]
    return [ChannelFigures(channel, *(count.get(channel, 0) for count in counts)) for channel in sorted(counts[0])]


def scenarios_by_revenue(session: Session, figures: Figures, *, limit: int = 10) -> list[ScenarioRevenue]:
    """Scenarios ranked by the revenue of the journeys they converted in the period."""
    conversions, revenue = figures.by_key("scenarios.conversions"), figures.by_key("scenarios.revenue")
    scenarios = session.execute(select(Scenario.id, Scenario.key, Scenario.name).where(Scenario.id.in_([int(k) for k in conversions])))
    ranked = [
        ScenarioRevenue(key, name, conversions[str(id_)], _money(revenue.get(str(id_), 0))) for id_, key, name in scenarios
    ]
    return sorted(ranked, key=lambda s: (-s.revenue, s.key))[:limit]


def _money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))
