"""Scheduled journey work: the due journeys claimed and run (:mod:`notifications.journeys.steps`)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import DomainError
from notifications.journeys.models import Journey
from notifications.journeys.steps import end_journey, run_journey
from notifications.pressure.operations import blackout_end
from notifications.rendering import RenderFailed
from notifications.runtime import Runtime

logger = logging.getLogger(__name__)


def advance_due_journeys(session: Session, runtime: Runtime, *, now: datetime, limit: int = 20) -> int:
    """Claim up to ``limit`` due journeys (``SKIP LOCKED``: other workers take the others) and run
    them; returns how many were claimed."""
    journeys = list(
        session.scalars(
            select(Journey)
            .where(Journey.status == "active", Journey.due_at <= now)
            .order_by(Journey.due_at, Journey.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    blackout = blackout_end(session, now)
    for journey in journeys:
        try:
            with session.begin_nested():
                run_journey(session, runtime, journey, now=now, blackout_until=blackout)
        except (DomainError, RenderFailed, LookupError) as error:
            # A broken template or a missing offer ends this journey, not the whole batch.
            logger.error("journey %s (scenario %s) failed at step %s: %s", journey.id, journey.scenario_id, journey.step, error)
            end_journey(journey, "failed", now)
    session.flush()
    return len(journeys)
