"""The outbox consumers' lag and dead letters (admin)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ConsumerLagSchema(Schema):
    consumer = fields.String(metadata={"description": "The consumer's name"})
    position = fields.Integer(metadata={"description": "The position of the last event it applied or passed"})
    backlog = fields.Integer(metadata={"description": "Events waiting for it, sequenced or not"})
    oldest_at = fields.DateTime(allow_none=True, metadata={"description": "When the oldest waiting event occurred"})
    age_seconds = fields.Float(metadata={"description": "How old that event is, in seconds (0 when caught up)"})


class DeadLetterQuerySchema(Schema):
    consumer = fields.String(validate=validate.Length(1, 64))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class DeadLetterSchema(Schema):
    id = fields.Integer()
    consumer = fields.String()
    event_id = fields.Integer()
    event_type = fields.String()
    member_id = fields.Integer(allow_none=True)
    error = fields.String()
    failed_at = fields.DateTime()
