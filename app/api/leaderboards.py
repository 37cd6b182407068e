"""Leaderboards: a board with its ranks, the member's public profile; configuring boards."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import current_principal, ensure_member_access, require
from app.clock import now
from app.schemas.leaderboards import (
    BoardQuerySchema,
    BoardSchema,
    LeaderboardSchema,
    LeaderboardUpdateSchema,
    ProfileSchema,
    ProfileViewSchema,
)
from loyalty.members.operations import get_member
from rewards.leaderboards import operations as leaderboards
from rewards.leaderboards.models import Leaderboard
from rewards.leaderboards.operations import BoardView

blp = Blueprint("leaderboards", __name__, url_prefix="/api/v1", description="Leaderboards")


@blp.route("/leaderboards", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.response(200, LeaderboardSchema(many=True))
def list_boards() -> list[Leaderboard]:
    """The active leaderboards: what each ranks, its periods and its scope."""
    return leaderboards.list_boards(db.session(), active_only=True)


@blp.route("/leaderboards/<key>", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.arguments(BoardQuerySchema, location="query")
@blp.response(200, BoardSchema)
def read_board(query: dict[str, Any], key: str) -> BoardView:
    """The top ``limit`` opted-in members, by display name, ranked 1, 2, 2, 4 on ties, and the caller's
    own rank and points (a member's token; clients pass ``member_id``), even outside the top."""
    session = db.session()
    principal = current_principal()
    member_id = principal.member_id if principal.role == "member" else query.get("member_id")
    if member_id is not None:
        get_member(session, member_id)
    return leaderboards.read_board(
        session,
        key,
        period=query.get("period"),
        store=query.get("store"),
        limit=query["limit"],
        now=now(),
        member_id=member_id,
    )


@blp.route("/members/<id:member_id>/leaderboard-profile", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, ProfileViewSchema)
def get_profile(member_id: int) -> dict[str, Any]:
    """How the member appears on leaderboards; not opted in (and no name) until they choose."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    profile = leaderboards.get_profile(session, member_id)
    return profile.as_dict() if profile else {"display_name": None, "opted_in": False}


@blp.route("/members/<id:member_id>/leaderboard-profile", methods=["PUT"])
@require("admin", "service", "member")
@blp.arguments(ProfileSchema)
@blp.response(200, ProfileViewSchema)
def put_profile(body: dict[str, Any], member_id: int) -> dict[str, Any]:
    """Opt in (or out) of the leaderboards, under a display name; the member's scores follow at once."""
    ensure_member_access(member_id)
    profile = leaderboards.save_profile(
        db.session(), member_id=member_id, display_name=body["display_name"], opted_in=body["opted_in"], now=now()
    )
    return profile.as_dict()


@blp.route("/admin/leaderboards", methods=["GET"])
@require("admin")
@blp.response(200, LeaderboardSchema(many=True))
def admin_list_leaderboards() -> list[Leaderboard]:
    """Every leaderboard, active or not."""
    return leaderboards.list_boards(db.session())


@blp.route("/admin/leaderboards", methods=["POST"])
@require("admin")
@blp.arguments(LeaderboardSchema)
@blp.response(201, LeaderboardSchema)
def admin_create_leaderboard(body: dict[str, Any]) -> Leaderboard:
    """Add a leaderboard; its scores are already kept (every credit counts for every board)."""
    return leaderboards.save_board(db.session(), body)


@blp.route("/admin/leaderboards/<key>", methods=["PATCH"])
@require("admin")
@blp.arguments(LeaderboardUpdateSchema)
@blp.response(200, LeaderboardSchema)
def admin_update_leaderboard(changes: dict[str, Any], key: str) -> Leaderboard:
    """Change a leaderboard's name, periods or scope, or deactivate it."""
    return leaderboards.save_board(db.session(), changes, key=key)


@blp.route("/admin/leaderboards/<key>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def admin_delete_leaderboard(key: str) -> None:
    """Remove a leaderboard definition (the scores stay: other boards share them)."""
    leaderboards.delete_board(db.session(), key)
