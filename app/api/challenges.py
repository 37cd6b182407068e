"""Challenges ("parcours gagnants"): the list, a member's progress, joining, and their configuration."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import ensure_member_access, require
from app.clock import now
from app.languages import CONTENT_LANGUAGE
from app.schemas.challenges import ChallengeSchema, ChallengeUpdateSchema, MemberChallengeSchema
from loyalty.members.operations import get_member
from rewards.challenges import operations as challenges
from rewards.challenges.models import Challenge
from rewards.challenges.operations import ChallengeStanding, ChallengeView

blp = Blueprint("challenges", __name__, url_prefix="/api/v1", description="Challenges and members' progress")


@blp.route("/challenges", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.response(200, ChallengeSchema(many=True))
def open_challenges() -> list[ChallengeView]:
    """The active challenges that are not over, those still to start included."""
    return challenges.open_challenges(db.session(), now=now())


@blp.route("/members/<id:member_id>/challenges", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, MemberChallengeSchema(many=True), headers=CONTENT_LANGUAGE)
def member_challenges(member_id: int) -> list[ChallengeStanding]:
    """A member's progress on each challenge that is not over and on each they took part in."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return challenges.member_challenges(session, member_id, now=now())


@blp.route("/members/<id:member_id>/challenges/<code>/join", methods=["POST"])
@require("admin", "service", "member")
@blp.response(201, MemberChallengeSchema, headers=CONTENT_LANGUAGE)
@blp.alt_response(200, schema=MemberChallengeSchema, description="The member had joined already")
def join_challenge(member_id: int, code: str) -> Any:
    """Join a challenge (an opt-in one counts nothing before): 201, or 200 when joined already. A
    challenge that is over: 422."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    at = now()
    created = challenges.join_challenge(session, member_id=member_id, code=code, now=at)
    (standing,) = challenges.member_challenges(session, member_id, now=at, code=code)
    return standing, 201 if created else 200


@blp.route("/admin/challenges", methods=["GET"])
@require("admin")
@blp.response(200, ChallengeSchema(many=True))
def admin_list_challenges() -> list[Challenge]:
    """Every challenge, active or not, over or not, with its steps."""
    return challenges.list_challenges(db.session())


@blp.route("/admin/challenges", methods=["POST"])
@require("admin")
@blp.arguments(ChallengeSchema)
@blp.response(201, ChallengeSchema)
def admin_create_challenge(body: dict[str, Any]) -> Challenge:
    """Add a challenge: its window, its steps, opt-in or not, its reward."""
    return challenges.save_challenge(db.session(), body)


@blp.route("/admin/challenges/<code>", methods=["PATCH"])
@require("admin")
@blp.arguments(ChallengeUpdateSchema)
@blp.response(200, ChallengeSchema)
def admin_update_challenge(changes: dict[str, Any], code: str) -> Challenge:
    """Change a challenge; its steps only while nobody takes part (409 otherwise)."""
    return challenges.save_challenge(db.session(), changes, code=code)


@blp.route("/admin/challenges/<code>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def admin_delete_challenge(code: str) -> None:
    """Remove a challenge nobody takes part in and no badge counts (409 otherwise: deactivate it)."""
    challenges.delete_challenge(db.session(), code)
