"""Who reacts to what, in one place (cosmicpython's ``bootstrap.py``).

:data:`IN_TRANSACTION`: the handlers that run inside the transaction that records the event, because
the answer depends on them (the tier upgrade and the threshold reward the till prints, the enrolment
and profile rewards in the member's balance).

:data:`CONSUMERS`: everything derived, applied after commit by outbox consumers in the worker process
(:mod:`loyalty.consumers`), in batches, exactly once per event and consumer. Events a consumer records
(a badge awarded, a challenge completed) are read by the consumers in turn.

Entry points (the app factory, the scheduler, the CLI) call :func:`register` once at start.

No other module subscribes a handler or builds a consumer (``tests/unit/test_bootstrap.py``). What
an operation does itself is not a reaction and is not listed here: the referral reward of a
referee's first qualifying purchase is a step of ``record_purchase`` and ``claim_purchase``, whose
answer includes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from loyalty import outbox
from loyalty.consumers import Apply, Consumer, Handler, each
from loyalty.engagement.score import SCORED_EVENTS
from loyalty.events import (
    CustomEventRecorded,
    DomainEvent,
    EngagementRecorded,
    MemberEnrolled,
    MemberUpdated,
    PointsDebited,
    PointsEarned,
    PurchaseClaimed,
    PurchaseRecorded,
    PurchaseReturned,
    ReferralRewarded,
    TierUpgraded,
    all_event_types,
)
from loyalty.reactions import (
    reward_enrolment,
    reward_profile_completion,
    score_interaction,
    score_interactions,
    upgrade_tier,
)
from loyalty.segments import history as segment_history
from loyalty.segments.compiler import register_condition
from notifications.journeys.bonuses import (
    credit_purchase_bonus,
    credit_purchase_bonuses,
)
from notifications.journeys.triggers import enter_triggered
from notifications.webhooks.delivery import queue_deliveries
from reporting import late_changes
from rewards import gamification
from rewards.badges.segments import badge_held
from rewards.events import ChallengeCompleted, StreakExtended
from rewards.games.operations import (
    earn_play_for_engagement,
    earn_play_for_purchase,
    earn_plays,
    withdraw_plays_for_return,
)
from rewards.leaderboards.operations import (
    apply_points,
    count_points,
    uncount_returned_points,
)
from rewards.thresholds.operations import unlock_crossed_thresholds

IN_TRANSACTION: dict[type[DomainEvent], Sequence[Handler]] = {
    PointsEarned: [upgrade_tier, unlock_crossed_thresholds],
    MemberEnrolled: [reward_enrolment],
    MemberUpdated: [reward_profile_completion],
}

#: The derived reactions, by consumer: each consumer applies its handlers to its events, in order.
DERIVED: dict[str, dict[type[DomainEvent], Sequence[Handler]]] = {
    "gamification": {  # badge metrics and levels, challenge steps, streaks (docs/gamification.md)
        PurchaseRecorded: [gamification.on_purchase],
        PurchaseClaimed: [gamification.on_purchase],
        EngagementRecorded: [gamification.on_engagement],
        ReferralRewarded: [gamification.on_referral],
        PointsEarned: [gamification.on_points],
        TierUpgraded: [gamification.on_tier],
        StreakExtended: [gamification.on_streak],
        ChallengeCompleted: [gamification.on_challenge],
        CustomEventRecorded: [gamification.on_custom_event],
    },
    "leaderboards": {PointsEarned: [count_points], PointsDebited: [uncount_returned_points]},
    "engagement-score": {event: [score_interaction] for event in all_event_types() if event.name in SCORED_EVENTS},
    "game-plays": {
        PurchaseRecorded: [earn_play_for_purchase],
        PurchaseClaimed: [earn_play_for_purchase],
        EngagementRecorded: [earn_play_for_engagement],
        PurchaseReturned: [withdraw_plays_for_return],
    },
    "journey-bonuses": {PurchaseRecorded: [credit_purchase_bonus]},
}

#: Consumers that apply a batch with set-based statements rather than event by event (with the same
#: result as their handlers in :data:`DERIVED`).
BATCHED: dict[str, Apply] = {
    "gamification": gamification.apply_batch,
    "leaderboards": apply_points,
    "engagement-score": score_interactions,
    "game-plays": earn_plays,
    "journey-bonuses": credit_purchase_bonuses,
}

#: Every consumer the worker runs, in this order in each round.
CONSUMERS: tuple[Consumer, ...] = (
    *(Consumer(name, on=tuple(handlers), apply=BATCHED.get(name) or each(handlers)) for name, handlers in DERIVED.items()),
    # scenario entries, journey conversions and wake-ups (docs/scenarios.md)
    Consumer("journeys", on=all_event_types(), apply=enter_triggered),
    # the purchase history summarised per member for segment conditions (docs/integrations.md)
    Consumer("segment-history", on=segment_history.EVENTS, apply=segment_history.summarise_purchases),
    # the brand's webhook subscriptions: one delivery per event and subscription (docs/integrations.md)
    Consumer("webhooks", on=all_event_types(), apply=queue_deliveries),
    # the dashboard's days counted before that a return, an open, a click or a late receipt changes
    Consumer("dashboard-days", on=late_changes.EVENTS, apply=late_changes.recount_touched_days),
)

def register() -> None:
    """Subscribe the in-transaction handlers (once, however often it is called), and add the segment
    condition on badges held (``rewards`` owns badges)."""
    register_condition("badge", badge_held)
    for event_type, handlers in IN_TRANSACTION.items():
        for handler in handlers:
            outbox.subscribe(event_type, handler)
