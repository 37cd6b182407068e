"""Custom event types and the events the brand's systems post."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import MAX_ID, plausible_instant
from app.schemas.engagement import ACTION_KEY


class EventTypeSchema(Schema):
    key = fields.String(required=True, validate=ACTION_KEY, metadata={"example": "newsletter_subscribed"})
    name = fields.String(required=True, validate=validate.Length(1, 120))
    schema = fields.Dict(
        required=True,
        attribute="json_schema",
        data_key="schema",
        metadata={"description": "A JSON Schema (draft 2020-12) of an object: the event's properties"},
    )
    is_active = fields.Boolean()


class EventTypeUpdateSchema(EventTypeSchema):
    key = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    schema = fields.Dict(attribute="json_schema", data_key="schema")


class CustomEventRequestSchema(Schema):
    """Exactly one of ``member_id``, ``card_number`` and ``external_id`` names the member."""

    member_id = fields.Integer(strict=True, validate=validate.Range(1, MAX_ID))
    card_number = fields.String(validate=validate.Length(1, 32))
    external_id = fields.String(validate=validate.Length(1, 64))
    type = fields.String(required=True, validate=ACTION_KEY)
    ref = fields.String(
        required=True, validate=validate.Length(1, 128),
        metadata={"description": "The posting system's own id of the occurrence: with type, the idempotency key"},
    )  # fmt: skip
    occurred_at = fields.AwareDateTime(required=True, validate=plausible_instant)
    properties = fields.Dict(keys=fields.String(), load_default=dict)


class CustomEventSchema(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    type = fields.String(attribute="event_type")
    ref = fields.String()
    occurred_at = fields.AwareDateTime()
    recorded_at = fields.AwareDateTime()
    properties = fields.Dict()
    points_awarded = fields.Integer(metadata={"description": "Awarded by the engagement actions bound to the type"})
