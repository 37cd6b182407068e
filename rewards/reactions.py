"""The rewards' in-process reactions to core events: threshold rewards, badges, challenges and streaks
(``rewards.gamification``), leaderboard scores, game plays."""

from __future__ import annotations

from loyalty import outbox
from loyalty.events import EngagementRecorded, PointsEarned, PurchaseClaimed, PurchaseRecorded
from rewards import gamification
from rewards.games.operations import earn_play_for_engagement, earn_play_for_purchase
from rewards.leaderboards.operations import count_points
from rewards.thresholds.operations import unlock_crossed_thresholds


def register_handlers() -> None:
    outbox.subscribe(PointsEarned, unlock_crossed_thresholds)
    gamification.register_handlers()
    outbox.subscribe(PointsEarned, count_points)
    outbox.subscribe(PurchaseRecorded, earn_play_for_purchase)
    outbox.subscribe(PurchaseClaimed, earn_play_for_purchase)
    outbox.subscribe(EngagementRecorded, earn_play_for_engagement)
