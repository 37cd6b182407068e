"""Scheduled tier work: the members whose review date has come."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from loyalty.tiers.operations import review_due_tiers


def review_tiers(session: Session, now: datetime) -> int:
    """The ``review-tiers`` task: keep or move down one tier a batch of members whose review date has
    come; returns how many were reviewed (run again until 0)."""
    return review_due_tiers(session, now=now)
