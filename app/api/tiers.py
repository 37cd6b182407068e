"""Tiers: the ladder (admin), members' tier history, and card issuances for the card printer."""

from __future__ import annotations

from typing import Any

from flask import Response

from app import db
from app.api import Blueprint
from app.auth.access import ensure_member_access, require
from app.clock import now
from app.schemas.tiers import (
    CardIssuanceSchema,
    CardQuerySchema,
    CardUpdateSchema,
    LadderSchema,
    TierChangeSchema,
)
from loyalty.members.operations import get_member
from loyalty.tiers import operations as tiers
from loyalty.tiers.card_export import cards_csv
from loyalty.tiers.models import CardIssuance, TierChange

blp = Blueprint("tiers", __name__, url_prefix="/api/v1", description="Tiers, tier history and card issuances")


@blp.route("/members/<id:member_id>/tier-history", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, TierChangeSchema(many=True))
def tier_history(member_id: int) -> list[TierChange]:
    """Every change of the member's tier, newest first."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return tiers.tier_history(session, member_id)


@blp.route("/admin/tiers", methods=["GET"])
@require("admin")
@blp.response(200, LadderSchema)
def get_ladder() -> dict[str, Any]:
    """The tier ladder, lowest first."""
    return {"tiers": tiers.load_ladder(db.session()).tiers}


@blp.route("/admin/tiers", methods=["PUT"])
@require("admin")
@blp.arguments(LadderSchema)
@blp.response(200, LadderSchema)
def save_ladder(body: dict[str, Any]) -> dict[str, Any]:
    """Replace the ladder. Thresholds must rise with the rank from 0; a tier members hold cannot go."""
    return {"tiers": tiers.save_ladder(db.session(), body["tiers"])}


@blp.route("/admin/card-issuances", methods=["GET"])
@require("admin")
@blp.arguments(CardQuerySchema, location="query")
@blp.response(200, CardIssuanceSchema(many=True))
def list_cards(query: dict[str, str]) -> list[CardIssuance]:
    """Cards to print and send (filter by ``status``)."""
    return tiers.list_cards(db.session(), status=query.get("status"))


@blp.route("/admin/card-issuances.csv", methods=["GET"])
@require("admin")
@blp.arguments(CardQuerySchema, location="query")
@blp.response(200, description="text/csv, one card a line, for the card printer")
def export_cards(query: dict[str, str]) -> Response:
    """The cards as CSV for the card printer (``status=pending`` for the next print run)."""
    text = cards_csv(tiers.list_cards(db.session(), status=query.get("status")))
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=cards.csv"})


@blp.route("/admin/card-issuances/<id:card_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(CardUpdateSchema)
@blp.response(200, CardIssuanceSchema)
def update_card(body: dict[str, str], card_id: int) -> CardIssuance:
    """Move a card forward: pending → printed → shipped (then it becomes the member's card)."""
    return tiers.advance_card(db.session(), card_id, body["status"], now=now())
