"""The member and their engagement standing, as the API reads them on every screen: one statement,
whatever the caller sees. Here rather than in ``loyalty.members``, which the engagement package reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from loyalty.engagement.models import EngagementScore
from loyalty.engagement.score import EngagementStanding, score_settings
from loyalty.errors import NotFound
from loyalty.members.models import Member
from loyalty.members.operations import get_member

#: Built once rather than on each read: building it cost as much CPU as a good part of running it.
_WITH_SCORE = (
    select(Member, EngagementScore.score, EngagementScore.as_of)
    .outerjoin(EngagementScore, EngagementScore.member_id == Member.id)
    .where(Member.id == bindparam("member_id"))
)


def member_with_engagement(session: Session, member_id: int, *, now: datetime) -> tuple[Member, EngagementStanding | None]:
    """The member and their engagement score and level now (0 and ``dormant`` before any
    interaction; None when the program keeps no score), read together: the member's row joined to
    their score's, the score's settings from the process's copy of the configuration."""
    settings = score_settings(session)
    if settings is None:
        return get_member(session, member_id), None
    row = session.execute(_WITH_SCORE, {"member_id": member_id}).one_or_none()
    if row is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    member, score, as_of = row
    return member, settings.standing(score, as_of, now) if as_of is not None else settings.standing(0.0, now, now)
