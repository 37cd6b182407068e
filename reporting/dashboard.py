"""The dashboard's figures: each one named, set-based aggregate over indexed columns.

Every function answers one figure (or one family of figures counted by the same statement) for a
:class:`~reporting.period.Period`; series by day come back with every day of the period, zeros
included. The page only draws what these return.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from loyalty.engagement.models import ENGAGEMENT_LEVELS, EngagementScore
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.program.models import ProgramSettings
from loyalty.purchases.models import Purchase
from loyalty.tiers.models import Tier, TierChange
from notifications.journeys.models import Journey
from notifications.messages.kpis import message_counts
from notifications.messages.models import Message
from notifications.scenarios.models import Scenario
from reporting.period import Period
from reporting.sql import utc_day
from rewards.catalog.models import Reward
from rewards.vouchers.models import Voucher

ZERO = Decimal("0.00")


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


def member_counts(session: Session, period: Period) -> MemberCounts:
    """Members in total and enrolled in the period (one pass over the enrolment index), members who
    bought in the period (distinct buyers on the purchases' date index), new members by day."""
    # Two counts on the enrolment index (a FILTER over one scan would read the whole table).
    total, new = session.execute(
        select(
            select(func.count()).where(Member.enrolled_at < period.ends_at).scalar_subquery(),
            select(func.count())
            .where(Member.enrolled_at >= period.starts_at, Member.enrolled_at < period.ends_at)
            .scalar_subquery(),
        )
    ).one()
    active = session.scalar(
        select(func.count(func.distinct(Purchase.member_id))).where(
            Purchase.occurred_at >= period.starts_at, Purchase.occurred_at < period.ends_at, Purchase.member_id.is_not(None)
        )
    )
    day = utc_day(Member.enrolled_at)
    by_day = session.execute(
        select(day, func.count())
        .where(Member.enrolled_at >= period.starts_at, Member.enrolled_at < period.ends_at)
        .group_by(day)
    )
    return MemberCounts(total=total, new=new, active=active or 0, new_by_day=_every_day(period, by_day, 0))


def purchase_figures(session: Session, period: Period) -> PurchaseFigures:
    """Members' purchases in the period: how many, their revenue, what was returned of them; revenue by
    day. One statement grouped by day."""
    day = utc_day(Purchase.occurred_at)
    rows = session.execute(
        select(day, func.count(), func.sum(Purchase.total), func.sum(Purchase.returned_amount))
        .where(
            Purchase.occurred_at >= period.starts_at, Purchase.occurred_at < period.ends_at, Purchase.member_id.is_not(None)
        )
        .group_by(day)
    ).all()
    return PurchaseFigures(
        purchases=sum(row[1] for row in rows),
        revenue=sum((row[2] or ZERO for row in rows), ZERO),
        returned=sum((row[3] or ZERO for row in rows), ZERO),
        revenue_by_day=_every_day(period, ((row[0], row[2] or ZERO) for row in rows), ZERO),
    )


def points_figures(session: Session, period: Period) -> PointsFigures:
    """Points issued (every credit), redeemed and expired in the period, by day, from the ledger: one
    statement grouped by day."""
    day = utc_day(LedgerEntry.created_at)
    issued = func.sum(case((LedgerEntry.points > 0, LedgerEntry.points), else_=0))
    redeemed = func.sum(case((LedgerEntry.kind == "redeem", -LedgerEntry.points), else_=0))
    expired = func.sum(case((LedgerEntry.kind == "expire", -LedgerEntry.points), else_=0))
    rows = session.execute(
        select(day, issued, redeemed, expired)
        .where(LedgerEntry.created_at >= period.starts_at, LedgerEntry.created_at < period.ends_at)
        .group_by(day)
    ).all()
    return PointsFigures(
        issued=sum(int(row[1] or 0) for row in rows),
        redeemed=sum(int(row[2] or 0) for row in rows),
        expired=sum(int(row[3] or 0) for row in rows),
        issued_by_day=_every_day(period, ((row[0], int(row[1] or 0)) for row in rows), 0),
        redeemed_by_day=_every_day(period, ((row[0], int(row[2] or 0)) for row in rows), 0),
    )


def points_liability(session: Session) -> Liability:
    """The points members hold now (positive balances: the balance index), and the program's value of
    a point."""
    points = session.scalar(select(func.sum(Member.points_balance)).where(Member.points_balance > 0))
    value = session.scalar(select(ProgramSettings.point_value).where(ProgramSettings.id == 1))
    return Liability(points=int(points or 0), point_value=value if value is not None else ZERO)


def tier_distribution(session: Session) -> list[tuple[str, int]]:
    """Members in each tier now, lowest tier first (tiers nobody is in included)."""
    counts = {code: n for code, n in session.execute(select(Member.tier_code, func.count()).group_by(Member.tier_code))}
    tiers = session.execute(select(Tier.code, Tier.name).order_by(Tier.rank)).all()
    return [(name, counts.pop(code, 0)) for code, name in tiers] + sorted(counts.items())


def tier_upgrades(session: Session, period: Period) -> list[tuple[str, int]]:
    """Upgrades in the period, by the tier reached (lowest first)."""
    rows = session.execute(
        select(Tier.name, func.count(TierChange.id))
        .join(TierChange, TierChange.to_code == Tier.code)
        .where(
            TierChange.reason == "upgrade",
            TierChange.changed_at >= period.starts_at,
            TierChange.changed_at < period.ends_at,
        )
        .group_by(Tier.name, Tier.rank)
        .order_by(Tier.rank)
    )
    return [(name, count) for name, count in rows]


def engagement_levels(session: Session) -> list[tuple[str, int]]:
    """Members at each engagement level now (members without a score apart), highest level first."""
    counts = {level: n for level, n in session.execute(select(EngagementScore.level, func.count()).group_by(EngagementScore.level))}
    return [(level, counts.get(level, 0)) for level in ENGAGEMENT_LEVELS]


def rewards_redeemed(session: Session, period: Period, *, limit: int = 10) -> list[tuple[str, int, int]]:
    """The rewards members took in the period (vouchers issued: redemptions, thresholds, challenges,
    games), most taken first: name, vouchers, points spent."""
    rows = session.execute(
        select(Reward.name, func.count(Voucher.id), func.sum(Voucher.points_cost))
        .join(Voucher, Voucher.reward_id == Reward.id)
        .where(Voucher.issued_at >= period.starts_at, Voucher.issued_at < period.ends_at)
        .group_by(Reward.name)
        .order_by(func.count(Voucher.id).desc(), Reward.name)
        .limit(limit)
    )
    return [(name, count, int(points or 0)) for name, count, points in rows]


def message_figures(session: Session, period: Period) -> list[ChannelFigures]:
    """Messages sent in the period, per channel, and how many of them were delivered, opened and
    clicked, counted as the scenarios' KPIs count them (in-app copies of a message sent on another
    channel apart)."""
    rows = message_counts(session, where=[Message.sent_at >= period.starts_at, Message.sent_at < period.ends_at])
    return sorted((ChannelFigures(*row) for row in rows), key=lambda figures: figures.channel)


def scenarios_by_revenue(session: Session, period: Period, *, limit: int = 10) -> list[ScenarioRevenue]:
    """Scenarios ranked by the revenue of the journeys they converted in the period."""
    revenue = func.sum(Journey.revenue)
    rows = session.execute(
        select(Scenario.key, Scenario.name, func.count(Journey.id), revenue)
        .join(Journey, Journey.scenario_id == Scenario.id)
        .where(Journey.converted_at >= period.starts_at, Journey.converted_at < period.ends_at)
        .group_by(Scenario.key, Scenario.name)
        .order_by(revenue.desc(), Scenario.key)
        .limit(limit)
    )
    return [ScenarioRevenue(key, name, count, total or ZERO) for key, name, count, total in rows]


def _every_day(period: Period, rows: Iterable[tuple[Any, Any]], zero: Any) -> list[tuple[date, Any]]:
    """``(day, value)`` for each day of the period, from ``(YYYY-MM-DD, value)`` rows of some days."""
    values = {str(day): value for day, value in rows}
    return [(day, values.get(day.isoformat(), zero)) for day in period.days]
