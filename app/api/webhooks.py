"""Outbound webhooks (admin): subscriptions, their secrets, their delivery log and redrive."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.clock import now
from app.scheduling import runtime
from app.schemas.webhooks import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    RedriveSchema,
    WebhookCreateSchema,
    WebhookQuerySchema,
    WebhookSchema,
    WebhookSecretSchema,
    WebhookUpdateSchema,
)
from notifications.webhooks import operations as webhooks
from notifications.webhooks.models import WebhookDelivery, WebhookSubscription

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/admin/webhooks", description="Outbound webhooks (admin)")

EXAMPLE = {"url": "https://crm.example.com/hooks/loyalty", "event_types": ["PointsEarned", "TierUpgraded"],
           "description": "CRM"}  # fmt: skip


def _allow_private() -> bool:
    return runtime().webhooks.settings.allow_private


@blp.route("", methods=["POST"])
@require("admin")
@blp.arguments(WebhookCreateSchema, example=EXAMPLE)
@blp.response(201, WebhookSecretSchema)
def create_webhook(body: dict[str, Any]) -> WebhookSubscription:
    """Subscribe a URL to domain events. The answer carries the signing ``secret``: the only time it
    is shown (``rotate-secret`` makes a new one)."""
    return webhooks.subscribe(db.session(), body, allow_private=_allow_private(), now=now())


@blp.route("", methods=["GET"])
@require("admin")
@blp.arguments(WebhookQuerySchema, location="query")
@blp.response(200, WebhookSchema(many=True))
def list_webhooks(query: dict[str, Any]) -> list[WebhookSubscription]:
    """Every subscription (``status=paused``: the paused ones, with why), without secrets."""
    status = query.get("status")
    return webhooks.list_subscriptions(db.session(), is_active=None if status is None else status == "active")


@blp.route("/<id:subscription_id>", methods=["GET"])
@require("admin")
@blp.response(200, WebhookSchema)
def get_webhook(subscription_id: int) -> WebhookSubscription:
    """One subscription, without its secret."""
    return webhooks.get_subscription(db.session(), subscription_id)


@blp.route("/<id:subscription_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(WebhookUpdateSchema, example={"is_active": True})
@blp.response(200, WebhookSchema)
def update_webhook(changes: dict[str, Any], subscription_id: int) -> WebhookSubscription:
    """Change the URL, the event types or the description; ``is_active`` pauses or resumes it
    (its waiting deliveries go on from where they stopped)."""
    return webhooks.change_subscription(
        db.session(), subscription_id, changes, allow_private=_allow_private(), now=now()
    )


@blp.route("/<id:subscription_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def delete_webhook(subscription_id: int) -> None:
    """Delete a subscription and its delivery log."""
    webhooks.delete_subscription(db.session(), subscription_id)


@blp.route("/<id:subscription_id>/rotate-secret", methods=["POST"])
@require("admin")
@blp.response(200, WebhookSecretSchema)
def rotate_webhook_secret(subscription_id: int) -> WebhookSubscription:
    """A new signing secret, shown once; for 24 hours the previous one signs too (a second ``v1``)."""
    return webhooks.rotate_secret(db.session(), subscription_id, now=now())


@blp.route("/<id:subscription_id>/deliveries", methods=["GET"])
@require("admin")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliveryPageSchema)
def list_webhook_deliveries(query: dict[str, Any], subscription_id: int) -> webhooks.DeliveryPage:
    """The delivery log, newest first: status, attempts, next attempt, the receiver's last answer."""
    return webhooks.list_deliveries(db.session(), subscription_id, **query)


@blp.route("/<id:subscription_id>/deliveries/<id:delivery_id>/redrive", methods=["POST"])
@require("admin")
@blp.response(200, DeliverySchema)
def redrive_webhook_delivery(subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a dead delivery again with a fresh count of attempts. Not dead: 409."""
    return webhooks.redrive_delivery(db.session(), subscription_id, delivery_id, now=now())


@blp.route("/<id:subscription_id>/redrive", methods=["POST"])
@require("admin")
@blp.response(200, RedriveSchema)
def redrive_webhook_dead_letters(subscription_id: int) -> dict[str, int]:
    """Send every dead delivery of the subscription again (after the receiver was fixed)."""
    return {"redriven": webhooks.redrive_dead(db.session(), subscription_id, now=now())}
