"""Custom event types (configuration) and the events posted for members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime


class CustomEventType(Base):
    """An event the brand's systems post (``newsletter_subscribed``), with the JSON Schema of its properties."""

    __tablename__ = "custom_event_types"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: A JSON Schema (draft 2020-12) of an ``object``: the properties every posted event must satisfy.
    json_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomEvent(Base):
    """One posted event, identified by ``(event_type, ref)``: the posting system's own id."""

    __tablename__ = "custom_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: What the engagement actions bound to the type awarded for it, in total.
    points_awarded: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("event_type", "ref"),
        Index("ix_custom_events_member_id_event_type_occurred_at", "member_id", "event_type", "occurred_at"),
        Index("ix_custom_events_event_type_member_id", "event_type", "member_id"),
    )
