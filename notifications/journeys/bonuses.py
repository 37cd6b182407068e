"""Bonus points a journey promised on the next purchase, credited in that purchase's transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.db import rowcount
from loyalty.events import PurchaseRecorded
from loyalty.ledger import operations as ledger
from notifications.journeys.models import PurchaseBonus


def credit_purchase_bonus(session: Session, event: PurchaseRecorded) -> None:
    """The member's open bonus promises (not used, not expired) are kept by this purchase, once each:
    a guarded ``UPDATE … WHERE used_at IS NULL`` decides, so two purchases cannot both use one."""
    if event.member_id is None:
        return
    now = event.occurred_at
    bonuses = session.scalars(
        select(PurchaseBonus).where(
            PurchaseBonus.member_id == event.member_id, PurchaseBonus.used_at.is_(None), PurchaseBonus.expires_at > now
        ).order_by(PurchaseBonus.id)
    ).all()
    for bonus in bonuses:
        used = session.execute(
            update(PurchaseBonus)
            .where(PurchaseBonus.id == bonus.id, PurchaseBonus.used_at.is_(None))
            .values(used_at=now, purchase_id=event.purchase_id),
            execution_options={"synchronize_session": False},
        )
        if rowcount(used) == 1:
            ledger.post(
                session,
                member_id=event.member_id,
                points=bonus.points,
                kind="bonus",
                reason="scenario bonus on purchase",
                now=now,
                source=("purchase_bonus", str(bonus.id)),
            )
