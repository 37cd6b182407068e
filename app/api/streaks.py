"""Streaks: a member's runs, and their configuration."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import ensure_member_access, require
from app.clock import now
from app.schemas.streaks import MemberStreakSchema, StreakSchema, StreakUpdateSchema
from loyalty.members.operations import get_member
from rewards.streaks import operations as streaks
from rewards.streaks.models import Streak
from rewards.streaks.operations import StreakStanding

blp = Blueprint("streaks", __name__, url_prefix="/api/v1", description="Streaks of activity")


@blp.route("/members/<id:member_id>/streaks", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, MemberStreakSchema(many=True))
def member_streaks(member_id: int) -> list[StreakStanding]:
    """A member's current and best run on each streak, in their time zone."""
    ensure_member_access(member_id)
    session = db.session()
    return streaks.member_streaks(session, get_member(session, member_id), now=now())


@blp.route("/admin/streaks", methods=["GET"])
@require("admin")
@blp.response(200, StreakSchema(many=True))
def admin_list_streaks() -> list[Streak]:
    """Every streak, active or not."""
    return streaks.list_streaks(db.session())


@blp.route("/admin/streaks", methods=["POST"])
@require("admin")
@blp.arguments(StreakSchema)
@blp.response(201, StreakSchema)
def admin_create_streak(body: dict[str, Any]) -> Streak:
    """Add a streak: days or weeks, and the activities that qualify."""
    return streaks.save_streak(db.session(), body)


@blp.route("/admin/streaks/<code>", methods=["PATCH"])
@require("admin")
@blp.arguments(StreakUpdateSchema)
@blp.response(200, StreakSchema)
def admin_update_streak(changes: dict[str, Any], code: str) -> Streak:
    """Change a streak; its period only while nobody has a run (409 otherwise)."""
    return streaks.save_streak(db.session(), changes, code=code)


@blp.route("/admin/streaks/<code>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def admin_delete_streak(code: str) -> None:
    """Remove a streak nobody has a run on and no badge counts (409 otherwise: deactivate it)."""
    streaks.delete_streak(db.session(), code)
