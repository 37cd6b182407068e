"""The outbox consumers: how far behind each is, and the events they could not apply (admin only)."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.clock import now
from app.schemas.outbox import ConsumerLagSchema, DeadLetterQuerySchema, DeadLetterSchema
from loyalty import consumers
from notifications.bootstrap import CONSUMERS

blp = Blueprint("outbox", __name__, url_prefix="/api/v1/admin/outbox", description="Outbox consumers (admin)")


@blp.route("/consumers", methods=["GET"])
@require("admin")
@blp.response(200, ConsumerLagSchema(many=True))
def list_consumers() -> list[consumers.Lag]:
    """Each consumer's backlog and the age of its oldest waiting event: the derived figures (badges,
    challenges, streaks, leaderboards, scores, game plays, journeys) lag the changes by that much."""
    return consumers.lags(db.session(), CONSUMERS, now=now())


@blp.route("/dead-letters", methods=["GET"])
@require("admin")
@blp.arguments(DeadLetterQuerySchema, location="query")
@blp.response(200, DeadLetterSchema(many=True))
def list_dead_letters(query: dict[str, Any]) -> list[consumers.OutboxDeadLetter]:
    """The events a consumer could not apply, newest first: it went on past them."""
    return consumers.dead_letters(db.session(), consumer=query.get("consumer"), limit=query["limit"])
