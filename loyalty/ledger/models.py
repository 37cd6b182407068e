"""Ledger entries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, UTCDateTime

#: ``migration``: a member's opening balance, brought from the program they were in before (imports).
ENTRY_KINDS = ("earn", "bonus", "redeem", "reverse", "expire", "adjust", "migration")


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
    #: Counts towards tiers: points earned on purchases and engagement, and their reversals.
    is_qualifying: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Who asked for it: an API client or member, for adjustments and audits.
    actor: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint(
            "kind IN ('earn', 'bonus', 'redeem', 'reverse', 'expire', 'adjust', 'migration')", name="kind_known"
        ),
        Index("ix_ledger_entries_member_id_id", "member_id", "id"),
        Index("ix_ledger_entries_source", "source_type", "source_id"),
        Index("ix_ledger_entries_member_id_created_at", "member_id", "created_at"),
        # The dashboard's points issued, redeemed and expired over a period (reporting/).
        Index("ix_ledger_entries_created_at", "created_at"),
    )


class PointLot(Base):
    """Points earned together, spent and expired oldest first.

    Every credit that raises the balance above zero opens a lot; every debit consumes the lots in
    order of expiry. The member's lots always hold ``max(balance, 0)`` points in all.
    """

    __tablename__ = "point_lots"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: NULL when the program's points do not expire.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    #: When ``PointsExpiring`` was recorded for this lot.
    expiry_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entry: Mapped[LedgerEntry] = relationship()

    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_within_points"),
        Index("ix_point_lots_member_id_expires_at", "member_id", "expires_at"),
        Index(
            "ix_point_lots_open_expires_at",
            "expires_at",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
    )


class QualifyingMonth(Base):
    """A member's qualifying points by calendar month (UTC): the read model of the tier window.

    Kept by a trigger on ``ledger_entries`` (migration ``qualifying_months``), in the statement that
    inserts a qualifying entry: no writer can forget it and it costs the write no statement. The
    status, the upgrade check and the tier review sum the months inside the window and read the ledger
    only for the window's first, partial month (:func:`loyalty.tiers.operations.qualifying_points`).
    """

    __tablename__ = "qualifying_months"
    #: Rows the trigger writes: a restored copy of the ledger rebuilds them (tests/snapshots.py).
    __table_args__ = {"info": {"kept_by_trigger": True}}

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    #: The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)

