"""Scheduled segment work: the members' rolling purchase windows moved to each new day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from loyalty.receipts.models import Purchase
from loyalty.segments.models import MemberPurchaseWindow, PurchaseWindowsAnchor
from loyalty.segments.windows import ANCHOR_ID, WINDOWS, day_start, recount


def roll_windows(session: Session, now: datetime) -> int:
    """Maintenance: move the anchor to ``now``'s UTC day, recounting the members whose purchases left
    a window since the last anchor (everyone's at the first run). 1 when it moved, else 0."""
    anchor = session.scalar(select(PurchaseWindowsAnchor).where(PurchaseWindowsAnchor.id == ANCHOR_ID).with_for_update())
    if anchor is None:
        anchor = PurchaseWindowsAnchor(id=ANCHOR_ID, as_of=None)
        session.add(anchor)
    as_of = day_start(now)
    if anchor.as_of is not None and anchor.as_of >= as_of:
        return 0
    if anchor.as_of is None:
        recount(session, as_of, None, None)
    else:
        previous = anchor.as_of
        left = or_(*(
            and_(Purchase.occurred_at >= previous - timedelta(days=days), Purchase.occurred_at < as_of - timedelta(days=days))
            for days in WINDOWS
        ))  # fmt: skip
        members = select(Purchase.member_id).where(Purchase.member_id.is_not(None), left).distinct()
        recount(session, as_of, Purchase.member_id.in_(members), MemberPurchaseWindow.member_id.in_(members))
    anchor.as_of = as_of
    session.flush()
    return 1
