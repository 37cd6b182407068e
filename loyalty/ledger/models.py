"""Ledger entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime

ENTRY_KINDS = ("earn", "bonus", "redeem", "reverse", "expire", "adjust")


class LedgerEntry(Base):
    """One change of a member's points. Rows are only ever inserted, never updated or deleted."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    #: Signed: positive credits, negative debits; never zero.
    points: Mapped[int] = mapped_column(BigInteger)
    #: The member's balance right after this entry, read from the same atomic update.
    balance_after: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    #: What caused the entry, e.g. ("purchase", "42") or ("return", "7").
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    #: Who asked for it: an API client or member, for adjustments and audits.
    actor: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint(
            "kind IN ('earn', 'bonus', 'redeem', 'reverse', 'expire', 'adjust')", name="kind_known"
        ),
        Index("ix_ledger_entries_member_id_id", "member_id", "id"),
        Index("ix_ledger_entries_source", "source_type", "source_id"),
    )
