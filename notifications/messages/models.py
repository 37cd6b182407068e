"""Message rows (one per channel copy) and members' push subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime


class Message(Base):
    """One message on one channel: rendered when created, then queued, sent, delivered, read.

    Statuses: ``held`` (an in-app copy waiting for its original), ``queued`` (waiting for ``due_at``, maybe deferred, maybe after a failed attempt),
    ``sending`` (claimed by a worker until ``lease_until``), ``sent``, ``delivered``, ``suppressed``
    (pressure rules said no: ``reason`` says which), ``dead`` (attempts exhausted or refused for good).
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    journey_id: Mapped[int | None] = mapped_column(ForeignKey("journeys.id"))
    scenario_key: Mapped[str | None] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(32))
    template_key: Mapped[str] = mapped_column(String(64))
    #: The template's language chosen for the member (their locale, its language, the program's).
    locale: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    is_marketing: Mapped[bool] = mapped_column(Boolean)
    #: The in-app copy of a message sent on another channel: ``held`` until that one is sent (then
    #: ``delivered``) or given up (then ``suppressed``), so the app shows what the member was sent.
    copy_of_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    #: Unique: a step run twice (a crash before commit) cannot queue the same message twice; also the
    #: provider's idempotency key and the email's Message-ID.
    send_key: Mapped[str] = mapped_column(String(96), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    #: Why the message was suppressed or deferred, or the last delivery error.
    reason: Mapped[str | None] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    body_short: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: While ``sending``: a worker that died is presumed gone after this instant.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_messages_member_id_created_at", "member_id", "created_at"),
        Index("ix_messages_journey_id", "journey_id"),
        Index("ix_messages_provider_ref", "provider_ref"),
        Index("ix_messages_scenario_key_channel", "scenario_key", "channel"),
        # The dashboard's messages over a period (reporting/).
        Index("ix_messages_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL"), sqlite_where=text("sent_at IS NOT NULL")),
        Index(
            "ix_messages_due",
            "due_at",
            "id",
            postgresql_where=text("status IN ('queued', 'sending')"),
            sqlite_where=text("status IN ('queued', 'sending')"),
        ),
        Index(
            "ix_messages_dead",
            "id",
            postgresql_where=text("status = 'dead'"),
            sqlite_where=text("status = 'dead'"),
        ),
    )


class PushSubscription(Base):
    """A browser (Web Push) or a device (a token for the push provider) a member receives pushes on."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    #: Web Push endpoint URL, or the device token: unique, so registering again is idempotent.
    address: Mapped[str] = mapped_column(String(1000))
    p256dh: Mapped[str] = mapped_column(String(200), default="")
    auth: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("address"),)


