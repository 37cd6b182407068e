"""Purchases, their lines, and returns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, Money, UTCDateTime


class Purchase(Base):
    """A receipt, identified by its natural key ``(store_code, receipt_no)``.

    The unique constraint on that key is what makes a till's retry harmless: the second insert finds
    the first and returns its result instead of awarding points again.
    """

    __tablename__ = "purchases"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32))
    receipt_no: Mapped[str] = mapped_column(String(64))
    #: NULL while nobody has claimed an anonymous purchase.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    channel: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: SHA-256 of the canonical request, to tell a retry (same body) from a conflict (another body).
    request_hash: Mapped[str] = mapped_column(String(64))
    #: Points credited for this purchase (0 until an anonymous purchase is claimed).
    points_awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The member's balance right after the purchase was recorded, answered again on a replay.
    balance_after: Mapped[int | None] = mapped_column(BigInteger)
    returned_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    #: Points already taken back by returns; never more than ``points_awarded``.
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The part of ``points_awarded`` still pending (held for the return window), not yet in the ledger.
    points_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    #: When pending points become spendable; NULL once released or when nothing was held.
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[PurchaseLine]] = relationship(
        back_populates="purchase", order_by="PurchaseLine.line_no"
    )

    __table_args__ = (
        UniqueConstraint("store_code", "receipt_no"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("returned_amount >= 0 AND returned_amount <= total", name="returned_within_total"),
        CheckConstraint("points_reversed >= 0 AND points_reversed <= points_awarded", name="reversed_within_awarded"),
        Index("ix_purchases_member_id_occurred_at", "member_id", "occurred_at"),
        # The dashboard's purchases and revenue over a period (reporting/), and the first, partial month
        # of a segment's purchase window: read from the index alone on PostgreSQL.
        Index("ix_purchases_occurred_at", "occurred_at", postgresql_include=["member_id", "total", "returned_amount"]),
        CheckConstraint("points_pending >= 0", name="pending_not_negative"),
        Index(
            "ix_purchases_pending_release_at",
            "release_at",
            "id",
            postgresql_where=text("points_pending > 0"),
            sqlite_where=text("points_pending > 0"),
        ),
    )


class PurchaseLine(Base):
    """One line of a receipt."""

    __tablename__ = "purchase_lines"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)
    #: The points this line earned (its category and promotion multipliers, its share of the rounding):
    #: what a return of the whole line takes back. 0 until an anonymous purchase is claimed.
    points: Mapped[int] = mapped_column(BigInteger, default=0)

    purchase: Mapped[Purchase] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("purchase_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint(
            "returned_quantity >= 0 AND returned_quantity <= quantity", name="returned_within_quantity"
        ),
    )

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


class PurchaseReturn(Base):
    """Goods brought back, identified by ``(purchase_id, return_no)``; reverses what the returned lines
    earned, or points in proportion to an amount."""

    __tablename__ = "purchase_returns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"))
    return_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money())
    #: The returned lines as given, ``[{"sku": …, "quantity": …}]``; NULL for a return by amount.
    lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int | None] = mapped_column(BigInteger)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("purchase_id", "return_no"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )
