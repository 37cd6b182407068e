"""The member metrics badges are earned on, and what each one counts.

Counts move by one on each event: ``purchases`` and ``category_purchases`` on a purchase recorded
for the member or claimed by them (one per category of its lines), ``reviews``, ``store_visits`` and
``shares`` on the engagement actions ``review_posted``, ``store_visit`` and ``share`` recorded within
their limits, ``referrals`` when a referee's first purchase rewards their sponsor, and
``challenges_completed`` on each challenge completed, ``custom_events`` on each custom event of its
type posted for the member. High-water figures keep the highest value
reached: ``lifetime_points``, ``tier`` (1 once the tier is reached) and ``streak`` (the best run).
Returns and downgrades take nothing back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    #: What the qualifier names (``category``, ``tier``, ``streak``, ``challenge``); None: it takes none.
    qualifier: str | None = None
    qualifier_required: bool = False
    #: The figure is the highest value reached rather than a count.
    high_water: bool = False


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("purchases", "purchases recorded for the member or claimed by them"),
        Metric("category_purchases", "purchases with a line in the category", "category", True),
        Metric("reviews", "reviews posted (engagement action review_posted)"),
        Metric("store_visits", "store visits (engagement action store_visit)"),
        Metric("shares", "shares (engagement action share)"),
        Metric("referrals", "referees whose first purchase rewarded the member"),
        Metric("lifetime_points", "lifetime qualifying points", high_water=True),
        Metric("tier", "1 once the tier is reached", "tier", True, high_water=True),
        Metric("streak", "the longest run of the streak", "streak", True, high_water=True),
        Metric("challenges_completed", "challenges completed (or, with a qualifier, that challenge)", "challenge"),
        Metric("custom_events", "custom events of the type posted for the member", "event_type", True),
    )
}

#: The engagement actions that a metric of their own counts.
ENGAGEMENT_METRICS = {"review_posted": "reviews", "store_visit": "store_visits", "share": "shares"}
