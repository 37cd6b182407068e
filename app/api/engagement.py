"""Engagement actions reported by apps and services, referrals, and the engagement score's settings."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint, examples
from app.auth.access import ensure_member_access, require
from app.clock import now
from app.schemas.engagement import (
    EngagementActionSchema,
    EngagementActionUpdateSchema,
    EngagementRequestSchema,
    EngagementSchema,
    EngagementScoreSettingsSchema,
    ReferralStatsSchema,
)
from loyalty.engagement import operations as engagement
from loyalty.engagement import score
from loyalty.engagement.models import Engagement, EngagementAction, EngagementScoreSettings
from loyalty.engagement.referrals import referral_stats
from loyalty.errors import NotFound
from loyalty.members.operations import get_member

blp = Blueprint(
    "engagement", __name__, url_prefix="/api/v1", description="Engagement actions, referrals and the engagement score"
)


@blp.route("/engagements", methods=["POST"])
@require("admin", "service", "member")
@blp.arguments(EngagementRequestSchema, example=examples.ENGAGEMENT)
@blp.response(201, EngagementSchema)
@blp.alt_response(200, schema=EngagementSchema, description="The same (member, action, ref) again: the original answer")
def report_engagement(body: dict[str, Any]) -> Any:
    """Report an engagement (a review, a share, a store visit…), idempotent on ``(member, action, ref)``.

    Over one of the action's limits the answer is still a success, with 0 points and the reason. A
    member's own token may report only the actions marked self-reportable, for themselves.
    """
    principal = ensure_member_access(body["member_id"])
    result = engagement.record_engagement(
        db.session(),
        member_id=body["member_id"],
        action_key=body["action"],
        ref=body["ref"],
        occurred_at=body["occurred_at"],
        now=now(),
        reported_by_member=principal.role == "member",
    )
    return result.engagement, 201 if result.created else 200


@blp.route("/members/<id:member_id>/engagements", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, EngagementSchema(many=True))
def member_engagements(member_id: int) -> list[Engagement]:
    """A member's latest engagements (100), newest first, with the points each earned."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return engagement.member_engagements(session, member_id)


@blp.route("/members/<id:member_id>/referrals", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, ReferralStatsSchema)
def referrals(member_id: int) -> dict[str, Any]:
    """A sponsor's referral code and KPIs: referees, rewarded referees, and what the referees spent."""
    ensure_member_access(member_id)
    session = db.session()
    member = get_member(session, member_id)
    stats = referral_stats(session, member_id)
    return {"referral_code": member.referral_code, **vars(stats)}


@blp.route("/admin/engagement-actions", methods=["GET"])
@require("admin")
@blp.response(200, EngagementActionSchema(many=True))
def list_actions() -> list[EngagementAction]:
    """Every engagement action with its points and limits."""
    return engagement.list_actions(db.session())


@blp.route("/admin/engagement-actions", methods=["POST"])
@require("admin")
@blp.arguments(EngagementActionSchema)
@blp.response(201, EngagementActionSchema)
def create_action(body: dict[str, Any]) -> EngagementAction:
    """Add an engagement action."""
    return engagement.save_action(db.session(), body)


@blp.route("/admin/engagement-actions/<key>", methods=["PATCH"])
@require("admin")
@blp.arguments(EngagementActionUpdateSchema)
@blp.response(200, EngagementActionSchema)
def update_action(changes: dict[str, Any], key: str) -> EngagementAction:
    """Change an action's points or limits; set ``is_active`` to false to stop awarding it."""
    return engagement.save_action(db.session(), changes, key=key)


@blp.route("/admin/engagement-score", methods=["GET"])
@require("admin")
@blp.response(200, EngagementScoreSettingsSchema)
def score_settings() -> EngagementScoreSettings:
    """How the engagement score is computed: half-life, weights, level boundaries (404: no score kept)."""
    settings = score.get_score_settings(db.session())
    if settings is None:
        raise NotFound("the program keeps no engagement score; PUT its settings to start one")
    return settings


@blp.route("/admin/engagement-score", methods=["PUT"])
@require("admin")
@blp.arguments(EngagementScoreSettingsSchema)
@blp.response(200, EngagementScoreSettingsSchema)
def update_score_settings(body: dict[str, Any]) -> EngagementScoreSettings:
    """Set how the engagement score is computed; every member's level is reviewed by the next runs of
    the drop task."""
    return score.save_score_settings(db.session(), body)
