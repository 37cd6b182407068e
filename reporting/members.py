"""Members: how many, how many new, how many active in a period."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.members.models import Member
from reporting.period import Period


@dataclass(frozen=True)
class MemberCounts:
    #: Enrolled by the end of the period.
    total: int
    #: Enrolled during the period.
    new: int
    #: Whose last purchase falls in the period.
    active: int


def member_counts(session: Session, period: Period) -> MemberCounts:
    """Members in total, new and active (a purchase in the period), in one pass over indexed columns."""
    row = session.execute(
        select(
            func.count().filter(Member.enrolled_at < period.ends_at),
            func.count().filter(Member.enrolled_at >= period.starts_at, Member.enrolled_at < period.ends_at),
            func.count().filter(Member.last_purchase_at >= period.starts_at, Member.last_purchase_at < period.ends_at),
        )
    ).one()
    return MemberCounts(total=row[0], new=row[1], active=row[2])
