"""The admin's webhook use cases: subscribe a URL to events, change or pause it, rotate its secret,
read its delivery log and redrive what was given up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from loyalty import audit
from loyalty.errors import Conflict, NotFound
from notifications.webhooks.addresses import check_url
from notifications.webhooks.models import WebhookDelivery, WebhookSubscription
from notifications.webhooks.signing import new_secret

#: How long the previous secret keeps signing beside the new one after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class DeliveryPage:
    """Deliveries newest first; ``next_before`` is the cursor of the next page (None on the last)."""

    items: list[WebhookDelivery]
    next_before: int | None


def list_subscriptions(session: Session, *, is_active: bool | None = None) -> list[WebhookSubscription]:
    """Every subscription by id, or only the active (or paused) ones."""
    query = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if is_active is not None:
        query = query.where(WebhookSubscription.is_active.is_(is_active))
    return list(session.scalars(query))


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    found = session.get(WebhookSubscription, subscription_id)
    if found is None:
        raise NotFound(f"no webhook subscription has id {subscription_id}", field="subscription_id")
    return found


def subscribe(session: Session, fields: dict[str, Any], *, allow_private: bool, now: datetime) -> WebhookSubscription:
    """Subscribe a URL to event types; its secret is generated here (the caller shows it once)."""
    check_url(fields["url"], allow_private=allow_private)
    subscription = WebhookSubscription(
        url=fields["url"],
        description=fields.get("description"),
        event_types=_normalised(fields["event_types"]),
        is_active=fields.get("is_active", True),
        secret=new_secret(),
        dead_in_row=0,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    session.flush()
    return subscription


def change_subscription(
    session: Session, subscription_id: int, changes: dict[str, Any], *, allow_private: bool, now: datetime
) -> WebhookSubscription:
    """Change the URL, the event types, the description; ``is_active`` pauses or resumes it (resuming
    forgets why it was paused and the failures counted)."""
    subscription = get_subscription(session, subscription_id)
    if "url" in changes:
        check_url(changes["url"], allow_private=allow_private)
        subscription.url = changes["url"]
    if "event_types" in changes:
        subscription.event_types = _normalised(changes["event_types"])
    if "description" in changes:
        subscription.description = changes["description"]
    if "is_active" in changes and changes["is_active"] != subscription.is_active:
        subscription.is_active = changes["is_active"]
        if subscription.is_active:
            subscription.paused_reason = None
            subscription.paused_at = None
            subscription.dead_in_row = 0
        else:
            subscription.paused_at = now
    subscription.updated_at = now
    session.flush()
    return subscription


def delete_subscription(session: Session, subscription_id: int) -> None:
    """Delete a subscription and its delivery log; what it had not received is never sent."""
    subscription = get_subscription(session, subscription_id)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id))
    session.delete(subscription)
    session.flush()


def rotate_secret(session: Session, subscription_id: int, *, now: datetime) -> WebhookSubscription:
    """A new signing secret (the caller shows it once); the previous one keeps signing beside it for
    :data:`ROTATION_OVERLAP`."""
    subscription = get_subscription(session, subscription_id)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = now + ROTATION_OVERLAP
    subscription.secret = new_secret()
    subscription.updated_at = now
    session.flush()
    return subscription


def list_deliveries(
    session: Session,
    subscription_id: int,
    *,
    status: str | None = None,
    event_type: str | None = None,
    member_id: int | None = None,
    event_id: int | None = None,
    limit: int = 50,
    before: int | None = None,
) -> DeliveryPage:
    """A subscription's delivery log, newest first, filtered by status, event type, member or event."""
    get_subscription(session, subscription_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    for column, value in (
        (WebhookDelivery.status, status), (WebhookDelivery.event_type, event_type),
        (WebhookDelivery.member_id, member_id), (WebhookDelivery.event_id, event_id),
    ):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    return DeliveryPage(items=rows[:limit], next_before=rows[limit - 1].id if len(rows) > limit else None)


def redrive_delivery(session: Session, subscription_id: int, delivery_id: int, *, now: datetime) -> WebhookDelivery:
    """Send a dead delivery again, with a fresh count of attempts; any other delivery is a conflict."""
    get_subscription(session, subscription_id)
    found = session.get(WebhookDelivery, delivery_id)
    if found is None or found.subscription_id != subscription_id:
        raise NotFound(f"subscription {subscription_id} has no delivery {delivery_id}", field="delivery_id")
    if found.status != "dead":
        raise Conflict(f"delivery {delivery_id} is {found.status}, not dead", field="delivery_id")
    found.status = "pending"
    found.attempts = 0
    found.due_at = now
    session.flush()
    return found


def redrive_dead(session: Session, subscription_id: int, *, now: datetime) -> int:
    """Send every dead delivery of a subscription again (after the receiver was fixed); returns how many."""
    get_subscription(session, subscription_id)
    dead = WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == "dead"
    ids = list(session.scalars(select(WebhookDelivery.id).where(*dead)))
    if ids:
        session.execute(
            update(WebhookDelivery).where(*dead).values(status="pending", attempts=0, due_at=now),
            execution_options={"synchronize_session": False},
        )
        audit.record(
            session, action="redrive", entity=WebhookDelivery.__tablename__, entity_key=f"subscription/{subscription_id}",
            before={"status": "dead", "deliveries": len(ids)}, after={"status": "pending", "deliveries": len(ids)},
        )  # fmt: skip
    return len(ids)


def _normalised(event_types: list[str]) -> list[str]:
    """The names once each, sorted; ``*`` alone when it is among them."""
    names = sorted(set(event_types))
    return ["*"] if "*" in names else names
