"""Scheduled purchase work: the pending points whose return window has ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from loyalty.purchases.operations import release_pending_points


def release_pending(session: Session, now: datetime) -> int:
    """The ``release-pending`` task: credit the pending points of a batch of purchases whose return
    window has ended; returns how many were released (run again until 0)."""
    return release_pending_points(session, now=now)
