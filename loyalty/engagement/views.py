"""The member and their engagement standing, as the API reads them on every screen: one statement,
whatever the caller sees. Here rather than in ``loyalty.members``, which the engagement package reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from loyalty.engagement.models import EngagementScore
from loyalty.engagement.score import EngagementStanding, score_settings
from loyalty.errors import NotFound
from loyalty.members.models import MEMBERS, consents_of, postal_address_of

_SCORES = EngagementScore.__table__
#: Columns no profile shows, left unread: the password's hash, and the days and dates kept for the
#: scans and the tier reviews. Each column read costs CPU in the driver and in SQLAlchemy.
_UNSHOWN = {"password_hash", "birthday_md", "enrolled_md", "tier_review_at", "referral_rewarded_at"}
#: Built once rather than on each read: building it cost as much CPU as a good part of running it. The
#: table's columns, not the mapped class: the answer is a copy of the row, and loading it as an ORM
#: object (identity map, instance state, attribute events) cost a third of the statement's CPU.
_WITH_SCORE = (
    select(*(column for column in MEMBERS.columns if column.name not in _UNSHOWN), _SCORES.c.score, _SCORES.c.as_of)
    .select_from(MEMBERS.outerjoin(_SCORES, _SCORES.c.member_id == MEMBERS.c.id))
    .where(MEMBERS.c.id == bindparam("member_id"))
)


def member_with_engagement(session: Session, member_id: int, *, now: datetime) -> tuple[dict[str, Any], EngagementStanding | None]:
    """The member's row (the columns a profile shows, by name, with its ``consents`` and
    ``postal_address``) and their engagement score and level now (0 and ``dormant`` before any
    interaction; None when the program keeps no score), read together: the member's row joined to their score's, the score's settings
    from the process's copy of the configuration."""
    settings = score_settings(session)
    row = session.connection().execute(_WITH_SCORE, {"member_id": member_id}).one_or_none()
    if row is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    member = {**row._asdict(), "consents": consents_of(row), "postal_address": postal_address_of(row)}
    score, as_of = member.pop("score"), member.pop("as_of")
    if settings is None:
        return member, None
    return member, settings.standing(score, as_of, now) if as_of is not None else settings.standing(0.0, now, now)
