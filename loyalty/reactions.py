"""The core's reactions to its own events: the tier upgrade and the enrolment rewards run in the
transaction of the change, the engagement score after commit (``notifications/bootstrap.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from loyalty.consumers import Delivered
from loyalty.engagement.operations import record_if_defined
from loyalty.engagement.score import add_interaction, add_interactions, interaction_of
from loyalty.events import DomainEvent, MemberEnrolled, MemberUpdated, PointsEarned
from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.tiers.operations import check_upgrade


def upgrade_tier(session: Session, event: PointsEarned) -> None:
    """Qualifying points may carry the member up the ladder."""
    if event.qualifying:
        check_upgrade(
            session, event.member_id, lifetime_points=event.lifetime_points, tier_code=event.tier, now=event.occurred_at
        )


def score_interaction(session: Session, event: DomainEvent) -> None:
    """Purchases, engagement, messages opened or clicked and games played move the engagement score."""
    interaction = interaction_of(event)
    if interaction is not None and event.member_id is not None:
        add_interaction(session, member_id=event.member_id, interaction=interaction, now=event.occurred_at)


def score_interactions(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
    """The ``engagement-score`` consumer: the batch's interactions, in order, in one read and one write."""
    interactions = [
        (event.member_id, interaction, event.occurred_at)
        for event in (delivered.event for delivered in batch)
        if event.member_id is not None and (interaction := interaction_of(event)) is not None
    ]
    add_interactions(session, interactions)


def reward_enrolment(session: Session, event: MemberEnrolled) -> None:
    """``account_created``, and ``profile_completed`` when the member enrolled with a full profile."""
    record_if_defined(session, member_id=event.member_id, action_key="account_created", ref="account", now=event.occurred_at)
    _reward_complete_profile(session, event.member_id, event)


def reward_profile_completion(session: Session, event: MemberUpdated) -> None:
    _reward_complete_profile(session, event.member_id, event)


def _reward_complete_profile(session: Session, member_id: int, event: MemberEnrolled | MemberUpdated) -> None:
    fields = get_settings(session).profile_fields
    member = session.get_one(Member, member_id)
    if fields and all(getattr(member, name, None) not in (None, "") for name in fields):
        record_if_defined(session, member_id=member_id, action_key="profile_completed", ref="profile", now=event.occurred_at)
