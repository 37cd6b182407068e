"""Scheduled engagement work: the members whose decaying engagement score fell a level."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.engagement.models import ENGAGEMENT_LEVELS, EngagementScore
from loyalty.engagement.score import score_settings
from loyalty.events import EngagementDropped


def fire_engagement_drops(session: Session, now: datetime, limit: int = 1000) -> int:
    """Review the members whose ``drops_at`` has come (one indexed query; the rows are claimed with
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that concurrent runs share the work): store the
    level of their score now and its next ``drops_at``, and record ``EngagementDropped`` for each whose
    level fell. At most ``limit`` members a run, the earliest due first; returns how many fell.
    """
    settings = score_settings(session)
    if settings is None:
        return 0
    due = session.scalars(
        select(EngagementScore)
        .where(EngagementScore.drops_at <= now)
        .order_by(EngagementScore.drops_at, EngagementScore.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    dropped = 0
    for row in due:
        score = settings.decayed(row.score, row.as_of, now)
        level = settings.level_of(score)
        if ENGAGEMENT_LEVELS.index(level) > ENGAGEMENT_LEVELS.index(row.level):
            outbox.record(
                session,
                EngagementDropped(
                    occurred_at=now,
                    member_id=row.member_id,
                    from_level=row.level,
                    to_level=level,
                    score=round(score, 2),
                ),
            )
            dropped += 1
        row.level, row.drops_at = level, settings.drops_at(score, now)
    session.flush()
    return dropped
