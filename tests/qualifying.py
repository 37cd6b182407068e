"""The qualifying-points read model against the ledger it is kept from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.ledger.models import LedgerEntry
from loyalty.ledger.operations import qualifying_months_out_of_step
from loyalty.members.models import Member
from loyalty.tiers.operations import QUALIFYING_POINTS, qualifying_window


def assert_read_model_matches_the_ledger(session: Session) -> None:
    """Every month kept equals its entries, and the window's figure read from the months equals the sum
    of the ledger for windows starting at every entry's instant, just before it, and at its month's
    start (the partial first month of the window on either side of each entry)."""
    assert qualifying_months_out_of_step(session) == []
    entries = session.execute(
        select(LedgerEntry.member_id, LedgerEntry.created_at).where(LedgerEntry.is_qualifying.is_(True))
    ).all()
    for member_id, created_at in entries:
        month_start = datetime(created_at.year, created_at.month, 1, tzinfo=UTC)
        for since in (created_at, created_at - timedelta(microseconds=1), month_start, month_start - timedelta(seconds=1)):
            kept = session.execute(
                select(QUALIFYING_POINTS).where(Member.id == member_id), qualifying_window(since)
            ).scalar_one()
            summed = session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                    LedgerEntry.member_id == member_id,
                    LedgerEntry.is_qualifying.is_(True),
                    LedgerEntry.created_at > since,
                )
            )
            assert kept == summed, (member_id, since, kept, summed)
