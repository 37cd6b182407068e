"""Webhook subscriptions, their secrets (shown once) and their delivery log."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import MAX_ID
from app.schemas.ledger import LedgerQuerySchema
from loyalty.events import all_event_types
from notifications.webhooks.models import DELIVERY_STATUSES, EVERY_EVENT

#: What a subscription may name: any domain event, or ``*`` for every one.
EVENT_NAMES = (EVERY_EVENT, *(event.name for event in all_event_types()))


class WebhookCreateSchema(Schema):
    url = fields.String(
        required=True, validate=validate.Length(1, 2000),
        metadata={"description": "An https URL whose host resolves to public addresses (http and private addresses "
                  "only with LOYALTY_WEBHOOK_ALLOW_PRIVATE=1)", "example": "https://crm.example.com/hooks/loyalty"},
    )  # fmt: skip
    event_types = fields.List(
        fields.String(validate=validate.OneOf(EVENT_NAMES)), required=True, validate=validate.Length(1, 64),
        metadata={"description": "Domain event names, or [\"*\"] for every event", "example": ["PointsEarned", "TierUpgraded"]},
    )  # fmt: skip
    description = fields.String(validate=validate.Length(max=200), allow_none=True)
    is_active = fields.Boolean(metadata={"description": "False: paused (created active by default)"})


class WebhookUpdateSchema(WebhookCreateSchema):
    url = fields.String(validate=validate.Length(1, 2000))
    event_types = fields.List(fields.String(validate=validate.OneOf(EVENT_NAMES)), validate=validate.Length(1, 64))


class WebhookSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String(allow_none=True)
    event_types = fields.List(fields.String())
    is_active = fields.Boolean()
    paused_reason = fields.String(
        allow_none=True, metadata={"description": "Why the subscription was paused automatically (its deliveries kept failing)"}
    )
    paused_at = fields.AwareDateTime(allow_none=True)
    dead_in_row = fields.Integer(metadata={"description": "Deliveries given up in a row since the last one received"})
    previous_secret_until = fields.AwareDateTime(
        allow_none=True, metadata={"description": "Until then, the secret before the last rotation signs too"}
    )
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class WebhookSecretSchema(WebhookSchema):
    """A subscription with its signing secret: the only time it is shown."""

    secret = fields.String(metadata={"description": "The HMAC-SHA256 key of Loyalty-Signature; shown only now"})


class WebhookQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(("active", "paused")))


class DeliveryQuerySchema(LedgerQuerySchema):
    """A page of the log (``limit``, ``before``), filtered."""

    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES), metadata={"description": "dead: the dead letters"})
    event_type = fields.String(validate=validate.OneOf(EVENT_NAMES[1:]))
    member_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    event_id = fields.Integer(validate=validate.Range(1, MAX_ID))


class DeliverySchema(Schema):
    id = fields.Integer()
    subscription_id = fields.Integer()
    event_id = fields.Integer(metadata={"description": "The body's id and Loyalty-Event-Id: the same on every attempt"})
    event_type = fields.String()
    member_id = fields.Integer(allow_none=True)
    occurred_at = fields.AwareDateTime()
    status = fields.String(metadata={"description": "pending, sending, delivered or dead"})
    attempts = fields.Integer()
    next_attempt_at = fields.Method("_next_attempt", allow_none=True, metadata={"type": "string", "format": "date-time"})
    last_attempt_at = fields.AwareDateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True, metadata={"description": "The receiver's last HTTP status"})
    last_error = fields.String(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()

    def _next_attempt(self, delivery: object) -> str | None:
        due_at = getattr(delivery, "due_at", None)
        return due_at.isoformat() if due_at is not None and getattr(delivery, "status", None) == "pending" else None


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_before = fields.Integer(allow_none=True, metadata={"description": "Cursor of the next page; null on the last"})


class RedriveSchema(Schema):
    redriven = fields.Integer(metadata={"description": "How many dead deliveries were queued again"})
