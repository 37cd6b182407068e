"""Threshold use cases: unlock on crossing, the next threshold of a member, configuration."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.errors import DomainError, InvalidOperation
from loyalty.events import PointsEarned
from loyalty.program.cache import cached, touch
from rewards.catalog.models import Reward
from rewards.catalog.operations import redeem_reward, reward_view
from rewards.events import RewardUnlocked
from rewards.thresholds.models import PointThreshold

logger = logging.getLogger(__name__)


def all_thresholds(session: Session) -> list[PointThreshold]:
    return list(session.scalars(select(PointThreshold).order_by(PointThreshold.points)))


@dataclass(frozen=True)
class ThresholdView:
    """An active threshold as read from the configuration (a plain value shared between requests)."""

    points: int
    reward_code: str
    auto_issue: bool


def active_thresholds(session: Session) -> tuple[ThresholdView, ...]:
    """The active thresholds, lowest first, from the process-wide copy of the configuration."""
    return cached(session, "thresholds", _read_thresholds)


def _read_thresholds(session: Session) -> tuple[ThresholdView, ...]:
    rows = session.scalars(
        select(PointThreshold).where(PointThreshold.is_active.is_(True)).order_by(PointThreshold.points)
    )
    return tuple(ThresholdView(points=row.points, reward_code=row.reward_code, auto_issue=row.auto_issue) for row in rows)


def next_threshold(session: Session, balance: int) -> ThresholdView | None:
    """The lowest active threshold above ``balance``."""
    return next((threshold for threshold in active_thresholds(session) if threshold.points > balance), None)


def unlock_crossed_thresholds(session: Session, event: PointsEarned) -> None:
    """Unlock the rewards of the thresholds a credit carried the member across (``RewardUnlocked``).

    An automatic threshold issues its reward at once; when that cannot be done (out of stock, or an
    earlier automatic reward of the same credit took the points), the reward stays unlocked for the
    member to claim, and nothing else of the credit is undone. Points given back (``reverse``
    credits, such as a cancelled voucher's) unlock nothing: they crossed their thresholds when they
    were earned, and the voucher would otherwise be issued again at once.
    """
    if event.kind == "reverse":
        return
    before = event.balance - event.points
    for threshold in active_thresholds(session):
        if not before < threshold.points <= event.balance:
            continue
        outbox.record(
            session,
            RewardUnlocked(
                occurred_at=event.occurred_at,
                member_id=event.member_id,
                threshold=threshold.points,
                reward_code=threshold.reward_code,
                auto_issue=threshold.auto_issue,
            ),
        )
        if threshold.auto_issue:
            _issue(session, event.member_id, threshold.reward_code, event.occurred_at)


def _issue(session: Session, member_id: int, reward_code: str, now: datetime) -> None:
    try:
        with _undone_if_out_of_stock(session, reward_code):
            redeem_reward(session, member_id=member_id, reward_code=reward_code, now=now, source="threshold")
    except DomainError as error:
        logger.info("threshold reward %s left to claim for member %s: %s", reward_code, member_id, error.detail)


@contextmanager
def _undone_if_out_of_stock(session: Session, reward_code: str) -> Iterator[None]:
    """A redemption writes nothing before its debit, the last step that can fail but one: taking a
    unit of a limited stock. The rewards of limited stock are issued in a savepoint, rolled back when
    the stock is out; the others need none."""
    reward = reward_view(session, reward_code)
    if reward is None or not reward.limited_stock:
        yield
        return
    session.flush()  # the credit's own entry must not ride in (and roll back with) the savepoint
    with session.begin_nested():
        yield


def save_thresholds(session: Session, thresholds: Sequence[dict[str, Any]]) -> list[PointThreshold]:
    """Replace the thresholds; each must name an existing reward and use distinct point values."""
    points = [spec["points"] for spec in thresholds]
    if len(points) != len(set(points)):
        raise InvalidOperation("two thresholds cannot have the same points", field="thresholds")
    known = set(session.scalars(select(Reward.code)))
    for index, spec in enumerate(thresholds):
        if spec["reward_code"] not in known:
            raise InvalidOperation(f"no reward has the code {spec['reward_code']!r}", field=f"thresholds.{index}.reward_code")
    for existing in session.scalars(select(PointThreshold)):
        session.delete(existing)
    session.flush()
    saved = [
        PointThreshold(**{"is_active": True, "auto_issue": True, **spec})
        for spec in sorted(thresholds, key=lambda spec: spec["points"])
    ]
    session.add_all(saved)
    touch(session)
    return saved

