"""Webhook subscriptions (configuration) and their deliveries (one per subscription and event)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime

#: The statuses of a delivery: waiting for its (next) attempt, being sent, received, given up.
DELIVERY_STATUSES = ("pending", "sending", "delivered", "dead")
#: A delivery in these statuses holds back the later deliveries of its member to its subscription.
OPEN_STATUSES = ("pending", "sending")
#: The event types of a subscription that wants every event.
EVERY_EVENT = "*"


class WebhookSubscription(Base):
    """A URL of the brand's that receives the events it names, signed with its secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    #: Domain event names (``PointsEarned``), or ``["*"]`` for every event.
    event_types: Mapped[list[str]] = mapped_column(JSON)
    #: False: paused, by an admin or after deliveries kept failing (:attr:`paused_reason`).
    is_active: Mapped[bool] = mapped_column(Boolean)
    #: The HMAC key of the signatures; shown once, when created or rotated.
    secret: Mapped[str] = mapped_column(String(100))
    #: The key before the last rotation, still signing beside the new one until ``previous_secret_until``.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the subscription was paused automatically (None when an admin paused it, or it is active).
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Deliveries given up in a row since the last one received: the subscription pauses at a limit.
    dead_in_row: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event for one subscription: sent until received (at least once), retried with backoff,
    given up (``dead``) after the last attempt; the same event id on every attempt."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    #: The outbox event's id: the body's ``id`` and the ``Loyalty-Event-Id`` header.
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The event's own fields: the body's ``data``.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When a worker may take it: its next attempt (``pending``) or the end of a lease (``sending``);
    #: None once received or given up.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The receiver's last HTTP status (None when it did not answer).
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
        Index(
            "ix_webhook_deliveries_due",
            "due_at",
            "id",
            postgresql_where=text("due_at IS NOT NULL"),
            sqlite_where=text("due_at IS NOT NULL"),
        ),
        Index(
            "ix_webhook_deliveries_open",
            "subscription_id",
            "member_id",
            "id",
            postgresql_where=text("status IN ('pending', 'sending')"),
            sqlite_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_webhook_deliveries_log", "subscription_id", "id"),
        # A member's data export reads every table by member_id.
        Index("ix_webhook_deliveries_member_id", "member_id"),
    )
