"""Gamification's reactions, run by the ``gamification`` outbox consumer after commit
(``notifications/bootstrap.py``): each event moves badge metrics, challenge steps and streaks.

A purchase (recorded for a member or claimed) and an engagement action recorded within its limits are
activities: they move the member's counts, the steps they match and the streaks they qualify for.
Referrals, qualifying points, tier upgrades, streak runs and completed challenges move the metrics of
their own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from loyalty.events import (
    ChallengeCompleted,
    CustomEventRecorded,
    EngagementRecorded,
    PointsEarned,
    PurchaseClaimed,
    PurchaseRecorded,
    ReferralRewarded,
    StreakExtended,
    TierUpgraded,
)
from loyalty.tiers.operations import load_ladder
from rewards.activity import Activity, engagement_activity, purchase_activity
from rewards.badges import operations as badges
from rewards.badges.metrics import ENGAGEMENT_METRICS
from rewards.challenges import operations as challenges
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
    """Reaching a tier reaches the ones below it too (an upgrade may jump several)."""
    ladder = load_ladder(session)
    rank = ladder.get(event.to_tier).rank
    reached = {("tier", tier.code): 1 for tier in ladder.tiers if tier.rank <= rank}
    badges.raise_to(session, event.member_id, reached, now=event.occurred_at)


def on_streak(session: Session, event: StreakExtended) -> None:
    badges.raise_to(session, event.member_id, {("streak", event.streak_code): event.best}, now=event.occurred_at)


def on_challenge(session: Session, event: ChallengeCompleted) -> None:
    keys = [("challenges_completed", ""), ("challenges_completed", event.challenge_code)]
    badges.count(session, event.member_id, keys, now=event.occurred_at)


def on_custom_event(session: Session, event: CustomEventRecorded) -> None:
    """A custom event counts for the badges on its type, whether or not it earned points."""
    badges.count(session, event.member_id, [("custom_events", event.event_type)], now=event.occurred_at)
