"""Campaigns of bulk awards: the same points to every member of a segment, once per campaign ref."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.db import insert_if_absent
from loyalty.errors import Conflict
from loyalty.ledger import operations as ledger
from loyalty.segments.models import AwardCampaign
from loyalty.segments.operations import get_segment, iter_members


def award_segment(
    session: Session, *, segment_key: str, ref: str, points: int, reason: str, now: datetime, actor: str | None = None
) -> tuple[AwardCampaign, bool]:
    """Credit ``points`` to each member of the segment (as it is now), once per ``ref``; the campaign
    and whether it was created (False: the same campaign again, answered as it was).

    Members are read by id a thousand at a time. Conditions are on each member's own data, so a
    credit never moves another member in or out of the segment while the pages are read.
    """
    segment = get_segment(session, segment_key)
    values = {"ref": ref, "segment_key": segment_key, "points": points, "reason": reason, "members_awarded": 0, "created_at": now}
    campaign_id = insert_if_absent(session, AwardCampaign, values, key=("ref",))
    if campaign_id is None:
        existing = session.scalars(select(AwardCampaign).where(AwardCampaign.ref == ref)).one()
        if (existing.segment_key, existing.points, existing.reason) != (segment_key, points, reason):
            raise Conflict("this campaign ref was used for another segment, amount or reason", field="ref")
        return existing, False
    awarded = 0
    for member in iter_members(session, segment.definition, now=now):
        ledger.post(
            session, member_id=member.id, points=points, kind="bonus", reason=reason, now=now,
            source=("campaign", ref), actor=actor,
        )  # fmt: skip
        awarded += 1
    session.execute(
        update(AwardCampaign).where(AwardCampaign.id == campaign_id).values(members_awarded=awarded),
        execution_options={"synchronize_session": False},
    )
    return session.get_one(AwardCampaign, campaign_id), True
