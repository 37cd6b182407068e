"""The record of each erasure: who asked, when; one per member (a second request changes nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime


class Erasure(Base):
    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    #: The admin client that asked for it.
    actor: Mapped[str] = mapped_column(String(80))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
