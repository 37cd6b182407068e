"""The rewards' in-process reactions to core events: threshold rewards, badges, challenges and streaks
(``rewards.gamification``), leaderboard scores, game plays; returns take back their share of the last
two. Registering them also adds the segment condition on badges held."""

from __future__ import annotations

from loyalty import outbox
from loyalty.events import (
    EngagementRecorded,
    PointsDebited,
    PointsEarned,
    PurchaseClaimed,
    PurchaseRecorded,
    PurchaseReturned,
)
from loyalty.segments.compiler import register_condition
from rewards import gamification
from rewards.badges.segments import badge_held
from rewards.games.operations import earn_play_for_engagement, earn_play_for_purchase, withdraw_plays_for_return
from rewards.leaderboards.operations import count_points, uncount_returned_points
from rewards.thresholds.operations import unlock_crossed_thresholds


def register_handlers() -> None:
    register_condition("badge", badge_held)
    outbox.subscribe(PointsEarned, unlock_crossed_thresholds)
    gamification.register_handlers()
    outbox.subscribe(PointsEarned, count_points)
    outbox.subscribe(PointsDebited, uncount_returned_points)
    outbox.subscribe(PurchaseRecorded, earn_play_for_purchase)
    outbox.subscribe(PurchaseClaimed, earn_play_for_purchase)
    outbox.subscribe(EngagementRecorded, earn_play_for_engagement)
    outbox.subscribe(PurchaseReturned, withdraw_plays_for_return)
