"""Bonus points a journey promised on the next purchase, credited by the ``journey-bonuses`` consumer
after that purchase's commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.consumers import Delivered
from loyalty.db import one_of, rowcount
from loyalty.events import PurchaseRecorded
from loyalty.ledger import operations as ledger
from notifications.journeys.models import PurchaseBonus


def credit_purchase_bonuses(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
    """The ``journey-bonuses`` consumer: one query finds the batch's buyers with a promise not used
    yet; only their purchases, in order, go through :func:`credit_purchase_bonus`."""
    purchases = [d.event for d in batch if isinstance(d.event, PurchaseRecorded) and d.event.member_id is not None]
    if not purchases:
        return
    buyers = sorted({event.member_id for event in purchases if event.member_id is not None})
    promised = set(
        session.scalars(
            select(PurchaseBonus.member_id)
            .where(one_of(session, PurchaseBonus.member_id, buyers), PurchaseBonus.used_at.is_(None))
            .distinct()
        )
    )
    for event in purchases:
        if event.member_id in promised:
            credit_purchase_bonus(session, event)


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
