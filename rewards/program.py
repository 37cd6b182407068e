"""Loading a whole program description: the core's parts, then the reward catalog and thresholds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.program.loader import load_core_program
from rewards.catalog.models import Reward
from rewards.catalog.operations import save_reward
from rewards.thresholds.models import PointThreshold
from rewards.thresholds.operations import save_thresholds


def load_program(session: Session, data: dict[str, Any]) -> bool:
    """Load every part of ``data`` whose table is still empty; returns whether anything was loaded."""
    loaded = load_core_program(session, data)
    if data.get("rewards") and session.scalar(select(Reward.id).limit(1)) is None:
        for reward in data["rewards"]:
            amount = reward.get("amount")
            save_reward(session, {**reward, "amount": Decimal(str(amount)) if amount is not None else None})
        loaded = True
    if data.get("thresholds") and session.scalar(select(PointThreshold.id).limit(1)) is None:
        save_thresholds(session, [dict(threshold) for threshold in data["thresholds"]])
        loaded = True
    return loaded
