"""Scheduled ledger work, point expiry: warn before, then expire the lots whose date has come (oldest
first). Each is a scheduler task (``app/scheduling.py``): ``(session, now)``, returns how much it did."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.events import PointsExpiring
from loyalty.ledger.models import PointLot
from loyalty.ledger.operations import post
from loyalty.members.models import Member
from loyalty.program.operations import get_settings


def notify_expiring_points(session: Session, now: datetime) -> int:
    """Record ``PointsExpiring`` once for every member with points expiring within the program's notice
    period (the amount and the first date); returns how many members were told.

    Set-based: one grouped query over the open lots in the window (indexed on ``expires_at``), one
    update marking them notified.
    """
    horizon = now + timedelta(days=get_settings(session).expiry_notice_days)
    window = (
        PointLot.remaining > 0,
        PointLot.expires_at > now,
        PointLot.expires_at <= horizon,
        PointLot.expiry_notified_at.is_(None),
    )
    rows = session.execute(
        select(PointLot.member_id, func.sum(PointLot.remaining), func.min(PointLot.expires_at))
        .where(*window)
        .group_by(PointLot.member_id)
        .order_by(PointLot.member_id)
    ).all()
    for member_id, points, first_date in rows:
        assert first_date is not None  # the window keeps lots that have an expiry date
        outbox.record(session, PointsExpiring(occurred_at=now, member_id=member_id, points=int(points), expires_at=first_date))
    session.execute(update(PointLot).where(*window).values(expiry_notified_at=now), execution_options={"synchronize_session": False})
    session.flush()
    return len(rows)


def expire_points(session: Session, now: datetime, limit: int = 500) -> int:
    """Expire the points of up to ``limit`` members whose lots have reached their date: one ``expire``
    entry per member, for what is left of those lots; returns how many members (run again until 0).

    The debit consumes lots soonest-to-expire first, so it takes exactly the expired ones.
    """
    expired = (PointLot.remaining > 0, PointLot.expires_at <= now)
    member_ids = session.scalars(
        select(PointLot.member_id).where(*expired).group_by(PointLot.member_id).order_by(PointLot.member_id).limit(limit)
    ).all()
    for member_id in member_ids:
        # Lock the member, then count: a redemption running meanwhile may have consumed some of the lots.
        session.execute(select(Member.id).where(Member.id == member_id).with_for_update())
        points = session.scalar(select(func.sum(PointLot.remaining)).where(PointLot.member_id == member_id, *expired))
        if points:
            post(session, member_id=member_id, points=-int(points), kind="expire", reason="points expired", now=now)
    session.flush()
    return len(member_ids)
