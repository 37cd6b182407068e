"""Messages: dead letters (admin), a member's messages (support), the app's inbox and push
subscriptions, and the providers' delivery reports."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import (
    WEBHOOK_SECRET_HEADER,
    current_principal,
    require,
    require_webhook_secret,
)
from app.clock import now
from app.schemas.ledger import LedgerQuerySchema
from app.schemas.messages import (
    DeliveryReportSchema,
    InboxMessageSchema,
    InboxSchema,
    MessagePageSchema,
    MessageQuerySchema,
    MessageSchema,
    MessageStateSchema,
    PushSubscriptionCreateSchema,
    PushSubscriptionSchema,
)
from loyalty.members.operations import get_member
from notifications.messages import operations as messages
from notifications.messages import tracking
from notifications.messages.models import Message

blp = Blueprint("messages", __name__, url_prefix="/api/v1", description="Messages, the inbox, push subscriptions")


@blp.route("/admin/messages", methods=["GET"])
@require("admin")
@blp.arguments(MessageQuerySchema, location="query")
@blp.response(200, MessagePageSchema)
def list_messages(query: dict[str, Any]) -> messages.MessagePage:
    """Messages newest first (``status=dead``: the dead letters); pass ``next_before`` as ``before``."""
    return messages.list_messages(
        db.session(), status=query.get("status"), limit=query["limit"], before=query.get("before")
    )


@blp.route("/admin/messages/<id:message_id>/redrive", methods=["POST"])
@require("admin")
@blp.response(200, MessageSchema)
def redrive(message_id: int) -> Message:
    """Queue a dead letter again with a fresh count of attempts. Not dead: 409."""
    return messages.redrive_message(db.session(), message_id, now=now())


@blp.route("/members/<id:member_id>/messages", methods=["GET"])
@require("admin", "service")
@blp.arguments(LedgerQuerySchema, location="query")
@blp.response(200, MessagePageSchema)
def member_messages(query: dict[str, int], member_id: int) -> messages.MessagePage:
    """What was sent to a member, on every channel, newest first: scenario, step, variant, status and
    why, the text, and when it was sent, delivered, opened and clicked."""
    session = db.session()
    get_member(session, member_id)
    return messages.member_messages(session, member_id, limit=query["limit"], before=query.get("before"))


def _member_id() -> int:
    member_id = current_principal().member_id
    assert member_id is not None
    return member_id


@blp.route("/me/inbox", methods=["GET"])
@require("member")
@blp.arguments(LedgerQuerySchema, location="query")
@blp.response(200, InboxSchema)
def inbox(query: dict[str, int]) -> messages.Inbox:
    """The calling member's in-app messages, newest first, and how many are unread."""
    return messages.inbox(db.session(), _member_id(), limit=query["limit"], before=query.get("before"))


@blp.route("/me/inbox/<id:message_id>/read", methods=["POST"])
@require("member")
@blp.response(200, InboxMessageSchema)
def read_message(message_id: int) -> Message:
    """Mark a message of the inbox read (an open; reading it again keeps the first time)."""
    return messages.read_inbox_message(db.session(), _member_id(), message_id, now=now())


@blp.route("/me/messages/<id:message_id>/opened", methods=["POST"])
@require("member")
@blp.response(200, MessageStateSchema)
def message_opened(message_id: int) -> Message:
    """The app reports that the member opened a message sent to them (a push notification tapped)."""
    return messages.report_opened(db.session(), _member_id(), message_id, now=now())


@blp.route("/me/push-subscriptions", methods=["POST"])
@require("member")
@blp.arguments(PushSubscriptionCreateSchema)
@blp.response(201, PushSubscriptionSchema)
@blp.alt_response(200, schema=PushSubscriptionSchema, description="Registered already")
def subscribe_push(body: dict[str, Any]) -> Any:
    """Receive pushes on this browser (Web Push endpoint and keys) or device (``kind: device``, token)."""
    subscription, created = messages.subscribe_push(db.session(), _member_id(), body, now=now())
    return subscription, 201 if created else 200


@blp.route("/me/push-subscriptions/<id:subscription_id>", methods=["DELETE"])
@require("member")
@blp.response(204)
def unsubscribe_push(subscription_id: int) -> None:
    """Stop pushes to this browser or device."""
    messages.unsubscribe_push(db.session(), _member_id(), subscription_id)


@blp.route("/webhooks/<channel>", methods=["POST"])
@blp.doc(
    security=[],
    parameters=[{"in": "header", "name": WEBHOOK_SECRET_HEADER, "required": True, "schema": {"type": "string"}}],
)
@require_webhook_secret
@blp.arguments(DeliveryReportSchema)
@blp.response(200, MessageStateSchema)
def delivery_report(body: dict[str, Any], channel: str) -> Message:
    """A provider reports on a message it took (``email``, ``sms`` or ``push``): delivered; failed or
    bounced (a dead letter); opened or clicked. Reporting again changes nothing."""
    return tracking.record_provider_report(db.session(), tracking.ProviderReport(channel=channel, **body), now=now())
