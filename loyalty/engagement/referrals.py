"""Referral ("parrainage"): a sponsor's code at enrolment (checked by :mod:`loyalty.enrolment`), both
rewarded after the referee's first qualifying purchase, and the sponsor's KPIs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import Money
from loyalty.engagement.operations import record_if_defined
from loyalty.events import ReferralRewarded
from loyalty.ledger import operations as ledger
from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.receipts.models import Purchase


@dataclass(frozen=True)
class ReferralStats:
    referees: int
    rewarded_referees: int
    #: What the referees spent, returns deducted.
    referees_revenue: Decimal


def reward_referral(session: Session, *, referee_id: int, purchase_total: Decimal, now: datetime) -> bool:
    """Reward a referee and their sponsor after the referee's first purchase of at least the program's
    minimum; True if it did. Once per referee: a guarded update marks the referee rewarded."""
    settings = get_settings(session)
    if purchase_total < settings.referral_min_amount:
        return False
    sponsor_id = session.scalar(
        update(Member)
        .where(Member.id == referee_id, Member.sponsor_id.is_not(None), Member.referral_rewarded_at.is_(None))
        .values(referral_rewarded_at=now)
        .returning(Member.sponsor_id),
        execution_options={"synchronize_session": False},
    )
    if sponsor_id is None:
        return False
    if settings.referral_referee_points:
        ledger.post(
            session,
            member_id=referee_id,
            points=settings.referral_referee_points,
            kind="bonus",
            reason="referral welcome",
            now=now,
            source=("referral", str(sponsor_id)),
            qualifying=True,
        )
    record_if_defined(session, member_id=sponsor_id, action_key="referral", ref=f"member:{referee_id}", now=now)
    outbox.record(session, ReferralRewarded(occurred_at=now, member_id=sponsor_id, referee_id=referee_id))
    return True


def referral_stats(session: Session, sponsor_id: int) -> ReferralStats:
    referees = select(Member.id).where(Member.sponsor_id == sponsor_id)
    count = session.scalar(select(func.count()).select_from(referees.subquery())) or 0
    rewarded = session.scalar(
        select(func.count()).where(Member.sponsor_id == sponsor_id, Member.referral_rewarded_at.is_not(None))
    ) or 0
    revenue = session.scalar(
        select(func.coalesce(func.sum(Purchase.total - Purchase.returned_amount), 0, type_=Money())).where(
            Purchase.member_id.in_(referees)
        )
    )
    return ReferralStats(referees=count, rewarded_referees=rewarded, referees_revenue=revenue or Decimal("0.00"))
