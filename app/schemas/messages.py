"""Messages: listings, the in-app inbox, push subscriptions and providers' delivery reports."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.common import Identifier, plausible_instant
from app.schemas.ledger import LedgerQuerySchema
from notifications.messages.operations import STATUSES
from notifications.messages.tracking import PROVIDER_STATUSES
from loyalty import identifiers


class MessageQuerySchema(LedgerQuerySchema):
    """A page (``limit``, ``before`` as for the ledger), of the messages in one ``status``."""

    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"description": "dead: the dead letters"})


class MessageStateSchema(Schema):
    """What became of a message (the answer to a delivery report or an open)."""

    id = fields.Integer()
    channel = fields.String(metadata={"description": "email, sms, push or in_app"})
    status = fields.String(metadata={"description": "held, queued, sending, sent, delivered, suppressed or dead"})
    reason = fields.String(allow_none=True, metadata={"description": "Why suppressed or deferred; the last error"})
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    opened_at = fields.AwareDateTime(allow_none=True)
    clicked_at = fields.AwareDateTime(allow_none=True)
    failed_at = fields.AwareDateTime(allow_none=True)


class MessageSchema(MessageStateSchema):
    """A message as support sees it: where it comes from, what it said, what became of it."""

    member_id = fields.Integer()
    scenario = fields.String(attribute="scenario_key", allow_none=True)
    step = fields.String(allow_none=True)
    variant = fields.String(allow_none=True)
    template = fields.String(attribute="template_key")
    locale = fields.String(metadata={"description": "The language the template was written in for the member"})
    copy_of_id = fields.Integer(allow_none=True, metadata={"description": "The message this one is the in-app copy of"})
    attempts = fields.Integer()
    subject = fields.String()
    text = fields.String(attribute="body_text")
    short = fields.String(attribute="body_short", metadata={"description": "The SMS, the push body"})
    created_at = fields.AwareDateTime()


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))
    next_before = fields.Integer(allow_none=True, metadata={"description": "Cursor of the next page; null on the last"})


class InboxMessageSchema(Schema):
    id = fields.Integer()
    scenario = fields.String(attribute="scenario_key", allow_none=True)
    subject = fields.String()
    text = fields.String(attribute="body_text")
    delivered_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(attribute="opened_at", allow_none=True)
    is_read = fields.Function(lambda message: message.opened_at is not None, dump_only=True)


class InboxSchema(Schema):
    items = fields.List(fields.Nested(InboxMessageSchema))
    next_before = fields.Integer(allow_none=True)
    unread = fields.Integer(metadata={"description": "Unread messages in the whole inbox"})


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(1, 200))
    auth = fields.String(required=True, validate=validate.Length(1, 100))


class PushSubscriptionCreateSchema(Schema):
    """A browser's Web Push subscription (``endpoint`` and ``keys``, as ``PushSubscription.toJSON()``
    gives them) or an app device's token (``kind: device``)."""

    kind = fields.String(load_default="webpush", validate=validate.OneOf(("webpush", "device")))
    endpoint = fields.Url(schemes={"https"}, validate=validate.Length(max=1000))
    keys = fields.Nested(PushKeysSchema)
    token = fields.String(validate=validate.Length(1, 1000))

    @validates_schema
    def _fields_of_kind(self, data: dict[str, Any], **_kwargs: Any) -> None:
        needed, refused = (
            (("endpoint", "keys"), ("token",)) if data["kind"] == "webpush" else (("token",), ("endpoint", "keys"))
        )
        for name in needed:
            if name not in data:
                raise ValidationError(f"A {data['kind']} subscription needs {name}.", field_name=name)
        for name in refused:
            if name in data:
                raise ValidationError(f"A {data['kind']} subscription takes no {name}.", field_name=name)


class PushSubscriptionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    address = fields.String(metadata={"description": "The endpoint, or the device token"})
    created_at = fields.AwareDateTime()


class DeliveryReportSchema(Schema):
    """A provider's report on one message, named by its reference or by our send key."""

    provider_ref = fields.String(validate=Identifier(identifiers.PROVIDER_REF))
    send_key = fields.String(validate=Identifier(identifiers.SEND_KEY))
    status = fields.String(required=True, validate=validate.OneOf(PROVIDER_STATUSES))
    at = fields.AwareDateTime(validate=plausible_instant, metadata={"description": "When it happened; default: now"})
    reason = fields.String(validate=validate.Length(max=200), metadata={"description": "Why it failed or bounced"})

    @validates_schema
    def _one_reference(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("provider_ref" in data) == ("send_key" in data):
            raise ValidationError("Give either provider_ref or send_key.", field_name="provider_ref")
