"""Custom events: the brand defines their types (with a JSON Schema) and its systems post them."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.clock import now
from app.schemas.customevents import (
    CustomEventRequestSchema,
    CustomEventSchema,
    EventTypeSchema,
    EventTypeUpdateSchema,
)
from loyalty.customevents import operations as customevents
from loyalty.customevents.models import CustomEventType
from loyalty.engagement.custom_events import record_custom_event

blp = Blueprint("custom_events", __name__, url_prefix="/api/v1", description="Custom events and their types")


@blp.route("/events", methods=["POST"])
@require("admin", "service")
@blp.arguments(CustomEventRequestSchema)
@blp.response(201, CustomEventSchema)
@blp.alt_response(200, schema=CustomEventSchema, description="The same (type, ref) again: the original answer")
def post_event(body: dict[str, Any]) -> Any:
    """Record a custom event for a member, idempotent on ``(type, ref)``; its properties are checked
    against the type's JSON Schema (422 naming the property)."""
    session = db.session()
    member_id = customevents.resolve_member(session, body)
    result = record_custom_event(
        session,
        member_id=member_id,
        type_key=body["type"],
        ref=body["ref"],
        occurred_at=body["occurred_at"],
        properties=body["properties"],
        now=now(),
    )
    return result.event, 201 if result.created else 200


@blp.route("/admin/event-types", methods=["GET"])
@require("admin")
@blp.response(200, EventTypeSchema(many=True))
def list_event_types() -> list[CustomEventType]:
    """Every custom event type with its schema."""
    return customevents.list_event_types(db.session())


@blp.route("/admin/event-types", methods=["POST"])
@require("admin")
@blp.arguments(EventTypeSchema)
@blp.response(201, EventTypeSchema)
def create_event_type(body: dict[str, Any]) -> CustomEventType:
    """Define a custom event type; its schema must be a valid JSON Schema of an object."""
    return customevents.save_event_type(db.session(), body, now=now())


@blp.route("/admin/event-types/<key>", methods=["PATCH"])
@require("admin")
@blp.arguments(EventTypeUpdateSchema)
@blp.response(200, EventTypeSchema)
def update_event_type(changes: dict[str, Any], key: str) -> CustomEventType:
    """Change a type's name or schema; set ``is_active`` to false to refuse its events."""
    return customevents.save_event_type(db.session(), changes, now=now(), key=key)

