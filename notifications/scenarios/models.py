"""Scenario tables: the scenario, each version of its definition, and the message templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime
from loyalty.i18n import Translatable


class Scenario(Base):
    """A scenario and its current definition; journeys keep the version they entered with."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    #: ``active`` (triggers and scans enter members), ``paused`` (journeys in progress go on, nobody
    #: enters) or ``draft`` (never run yet).
    status: Mapped[str] = mapped_column(String(8))
    #: Marketing messages obey consent, the cap, quiet hours and blackouts; transactional ones do not.
    is_marketing: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer)
    #: The current version's definition (trigger, steps, goal, entry, holdout, variants).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScenarioVersion(Base):
    """One saved version of a scenario's definition, kept for the journeys that entered with it."""

    __tablename__ = "scenario_versions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("scenario_id", "version"),)


class MessageTemplate(Translatable, Base):
    """The Jinja parts of one message: rendered per channel from one context."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    #: The short form: the SMS, the push body.
    short: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
