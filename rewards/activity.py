"""What a member did that gamification counts: a purchase, with the categories of its lines, or an
engagement action recorded within its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from loyalty.members.models import Member
from loyalty.receipts.models import PurchaseLine

PURCHASE = "purchase"
ENGAGEMENT = "engagement"


@dataclass(frozen=True)
class Activity:
    member_id: int
    #: When the program recorded it: streaks and challenge windows go by this instant.
    at: datetime
    #: ``purchase`` or ``engagement``.
    kind: str
    #: The engagement action.
    action: str | None = None
    #: The categories of the purchase's lines.
    categories: frozenset[str] = field(default_factory=frozenset)
    #: The member's time zone, when it was read with the rest.
    timezone: str | None = None


def purchase_activity(session: Session, *, member_id: int, purchase_id: int, at: datetime) -> Activity:
    """A purchase of ``member_id``, with the categories of its lines and the member's time zone (one
    query)."""
    lines = and_(PurchaseLine.purchase_id == purchase_id, PurchaseLine.category.is_not(None))
    rows = session.execute(
        select(Member.timezone, PurchaseLine.category)
        .select_from(Member)
        .outerjoin(PurchaseLine, lines)
        .where(Member.id == member_id)
        .distinct()
    ).all()
    return Activity(
        member_id=member_id,
        at=at,
        kind=PURCHASE,
        categories=frozenset(category for _, category in rows if category is not None),
        timezone=rows[0].timezone,
    )


def engagement_activity(*, member_id: int, action: str, at: datetime) -> Activity:
    return Activity(member_id=member_id, at=at, kind=ENGAGEMENT, action=action)
