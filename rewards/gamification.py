"""Gamification's reactions, run by the ``gamification`` outbox consumer after commit
(``notifications/bootstrap.py``): each event moves badge metrics, challenge steps and streaks.

A purchase (recorded for a member or claimed) and an engagement action recorded within its limits are
activities: they move the member's counts, the steps they match and the streaks they qualify for.
Referrals, qualifying points, tier upgrades, streak runs and completed challenges move the metrics of
their own.

The consumer applies a batch with :func:`apply_batch`: the same reactions, in the same order, on the
batch's figures and runs held in memory, read in a few queries and written in one upsert per table;
the ``on_*`` handlers apply one event (the synchronous reference the tests compare it with).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.consumers import Delivered
from loyalty.db import one_of
from loyalty.events import (
    CustomEventRecorded,
    DomainEvent,
    EngagementRecorded,
    PointsEarned,
    PurchaseClaimed,
    PurchaseRecorded,
    ReferralRewarded,
    TierUpgraded,
)
from loyalty.members.models import Member
from loyalty.receipts.models import PurchaseLine
from loyalty.tiers.operations import load_ladder
from rewards.activity import PURCHASE, Activity, engagement_activity, purchase_activity
from rewards.badges import operations as badges
from rewards.badges.metrics import ENGAGEMENT_METRICS
from rewards.challenges import operations as challenges
from rewards.events import ChallengeCompleted, StreakExtended
from rewards.streaks import operations as streaks


def on_purchase(session: Session, event: PurchaseRecorded | PurchaseClaimed) -> None:
    """A purchase counts once for ``purchases`` and once for each category of its lines."""
    if event.member_id is None:
        return
    activity = purchase_activity(
        session, member_id=event.member_id, purchase_id=event.purchase_id, at=event.occurred_at
    )
    keys = [("purchases", ""), *(("category_purchases", category) for category in sorted(activity.categories))]
    badges.count(session, event.member_id, keys, now=event.occurred_at)
    _progress(session, activity)


def on_engagement(session: Session, event: EngagementRecorded) -> None:
    """An engagement over its action's limits counts for nothing here either."""
    if not event.awarded:
        return
    metric = ENGAGEMENT_METRICS.get(event.action)
    if metric is not None:
        badges.count(session, event.member_id, [(metric, "")], now=event.occurred_at)
    _progress(session, engagement_activity(member_id=event.member_id, action=event.action, at=event.occurred_at))


def _progress(session: Session, activity: Activity) -> None:
    challenges.record_activity(session, activity)
    streaks.record_activity(session, activity)


def on_referral(session: Session, event: ReferralRewarded) -> None:
    badges.count(session, event.member_id, [("referrals", "")], now=event.occurred_at)


def on_points(session: Session, event: PointsEarned) -> None:
    if event.qualifying:
        badges.raise_to(
            session, event.member_id, {("lifetime_points", ""): event.lifetime_points}, now=event.occurred_at
        )


def on_tier(session: Session, event: TierUpgraded) -> None:
    badges.raise_to(session, event.member_id, _tiers_reached(session, event), now=event.occurred_at)


def on_streak(session: Session, event: StreakExtended) -> None:
    badges.raise_to(session, event.member_id, {("streak", event.streak_code): event.best}, now=event.occurred_at)


def on_challenge(session: Session, event: ChallengeCompleted) -> None:
    keys = [("challenges_completed", ""), ("challenges_completed", event.challenge_code)]
    badges.count(session, event.member_id, keys, now=event.occurred_at)


def on_custom_event(session: Session, event: CustomEventRecorded) -> None:
    """A custom event counts for the badges on its type, whether or not it earned points."""
    badges.count(session, event.member_id, [("custom_events", event.event_type)], now=event.occurred_at)


def apply_batch(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
    """The ``gamification`` consumer: the batch's events in order, on its members' badge figures and
    streak runs loaded at once (the purchases' categories and the members' time zones in two queries
    more), written at the end in one upsert per table. Challenge steps move event by event, only for
    the activities that match an open challenge's step (none queries anything otherwise)."""
    events = [delivered.event for delivered in batch]
    members = {event.member_id for event in events if event.member_id is not None}
    activities = _activities(session, events)
    figures = badges.MetricsBatch(session, members)
    runs = streaks.RunsBatch(session, members)
    timezones = _timezones(session, {activity.member_id for activity in activities.values()}) if runs.streaks else {}
    for index, event in enumerate(events):
        activity = activities.get(index)
        match event:
            case PurchaseRecorded() | PurchaseClaimed() if activity is not None:
                keys = [("purchases", ""), *(("category_purchases", category) for category in sorted(activity.categories))]
                figures.count(activity.member_id, keys, now=event.occurred_at)
            case EngagementRecorded(awarded=True) if ENGAGEMENT_METRICS.get(event.action) is not None:
                figures.count(event.member_id, [(ENGAGEMENT_METRICS[event.action], "")], now=event.occurred_at)
            case ReferralRewarded():
                figures.count(event.member_id, [("referrals", "")], now=event.occurred_at)
            case PointsEarned(qualifying=True):
                figures.raise_to(event.member_id, {("lifetime_points", ""): event.lifetime_points}, now=event.occurred_at)
            case TierUpgraded():
                figures.raise_to(event.member_id, _tiers_reached(session, event), now=event.occurred_at)
            case StreakExtended():
                figures.raise_to(event.member_id, {("streak", event.streak_code): event.best}, now=event.occurred_at)
            case ChallengeCompleted():
                keys = [("challenges_completed", ""), ("challenges_completed", event.challenge_code)]
                figures.count(event.member_id, keys, now=event.occurred_at)
            case CustomEventRecorded():
                figures.count(event.member_id, [("custom_events", event.event_type)], now=event.occurred_at)
        if activity is not None:
            challenges.record_activity(session, activity)
            runs.record_activity(activity, timezones.get(activity.member_id, "UTC"))
    figures.write()
    runs.write()


def _activities(session: Session, events: Sequence[DomainEvent]) -> dict[int, Activity]:
    """The activities among ``events``, by their index: the purchases with the categories of their
    lines (one query), the engagements recorded within their limits."""
    purchases = {
        event.purchase_id
        for event in events
        if isinstance(event, PurchaseRecorded | PurchaseClaimed) and event.member_id is not None
    }
    categories: dict[int, set[str]] = {}
    if purchases:
        lines = select(PurchaseLine.purchase_id, PurchaseLine.category).where(
            one_of(session, PurchaseLine.purchase_id, sorted(purchases)), PurchaseLine.category.is_not(None)
        )
        for purchase_id, category in session.execute(lines.distinct()):
            if category is not None:
                categories.setdefault(purchase_id, set()).add(category)
    found: dict[int, Activity] = {}
    for index, event in enumerate(events):
        if isinstance(event, PurchaseRecorded | PurchaseClaimed) and event.member_id is not None:
            found[index] = Activity(
                member_id=event.member_id, at=event.occurred_at, kind=PURCHASE,
                categories=frozenset(categories.get(event.purchase_id, ())),
            )  # fmt: skip
        elif isinstance(event, EngagementRecorded) and event.awarded:
            found[index] = engagement_activity(member_id=event.member_id, action=event.action, at=event.occurred_at)
    return found


def _timezones(session: Session, member_ids: set[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    rows = session.execute(select(Member.id, Member.timezone).where(one_of(session, Member.id, sorted(member_ids))))
    return {member_id: timezone for member_id, timezone in rows}


def _tiers_reached(session: Session, event: TierUpgraded) -> dict[badges.MetricKey, int]:
    """Reaching a tier reaches the ones below it too (an upgrade may jump several)."""
    ladder = load_ladder(session, holding=event.to_tier)
    rank = ladder.get(event.to_tier).rank
    return {("tier", tier.code): 1 for tier in ladder.tiers if tier.rank <= rank}
