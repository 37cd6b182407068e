"""The rewards' in-process reactions to core events: unlocking threshold rewards."""

from __future__ import annotations

from loyalty import outbox
from loyalty.events import PointsEarned
from rewards.thresholds.operations import unlock_crossed_thresholds


def register_handlers() -> None:
    outbox.subscribe(PointsEarned, unlock_crossed_thresholds)
