"""Instant-win games: a member's games and plays, playing; configuring games and auditing their plays."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import ensure_member_access, require
from app.clock import now
from app.idempotency import idempotent
from app.languages import CONTENT_LANGUAGE
from app.schemas.games import (
    GameSchema,
    GameUpdateSchema,
    MemberGameSchema,
    PlayPageQuerySchema,
    PlayPageSchema,
    PlayResultSchema,
)
from loyalty.members.operations import get_member
from rewards.games import operations as games
from rewards.games.models import Game
from rewards.games.operations import MemberGame, PlayPage, PlayResult

blp = Blueprint("games", __name__, url_prefix="/api/v1", description="Instant-win games")


@blp.route("/members/<id:member_id>/games", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, MemberGameSchema(many=True), headers=CONTENT_LANGUAGE)
def member_games(member_id: int) -> list[MemberGame]:
    """The open games (and any other the member has plays of): plays available and the latest plays."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return games.member_games(session, member_id, now=now())


@blp.route("/members/<id:member_id>/games/<code>/plays", methods=["POST"])
@require("admin", "service", "member")
@idempotent
@blp.response(201, PlayResultSchema)
def play_game(member_id: int, code: str) -> PlayResult:
    """Spend a play: drawn on the server, the prize given at once. No play left: 409. An app that may
    retry sends an ``Idempotency-Key``: the retry gets the same play, not another."""
    ensure_member_access(member_id)
    return games.play_game(db.session(), member_id=member_id, game_code=code, now=now())


@blp.route("/admin/games", methods=["GET"])
@require("admin")
@blp.response(200, GameSchema(many=True))
def admin_list_games() -> list[Game]:
    """Every game, with its prizes' weights and stock."""
    return games.list_games(db.session())


@blp.route("/admin/games", methods=["POST"])
@require("admin")
@blp.arguments(GameSchema)
@blp.response(201, GameSchema)
def admin_create_game(body: dict[str, Any]) -> Game:
    """Add a game: what earns a play, the prizes with their weights and stock, the weight of no prize."""
    return games.save_game(db.session(), body)


@blp.route("/admin/games/<code>", methods=["PATCH"])
@require("admin")
@blp.arguments(GameUpdateSchema)
@blp.response(200, GameSchema)
def admin_update_game(changes: dict[str, Any], code: str) -> Game:
    """Change a game (a prize's stock or weight, the window); deactivate it with ``is_active``."""
    return games.save_game(db.session(), changes, code=code)


@blp.route("/admin/games/<code>/plays", methods=["GET"])
@require("admin")
@blp.arguments(PlayPageQuerySchema, location="query")
@blp.response(200, PlayPageSchema)
def admin_list_plays(query: dict[str, int], code: str) -> PlayPage:
    """A game's plays, newest first: who, when, the random value drawn, the outcome and the stock left."""
    return games.game_plays(db.session(), code, limit=query["limit"], before=query.get("before"))
