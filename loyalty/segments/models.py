"""The segments table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime


class Segment(Base):
    """A named audience: a definition of conditions on members (``loyalty.segments.compiler``)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or one condition (docs/integrations.md).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AwardCampaign(Base):
    """Points given once to every member of a segment, identified by the campaign's ``ref``."""

    __tablename__ = "award_campaigns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    segment_key: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    members_awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)
