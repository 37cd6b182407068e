"""Vouchers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, Money, UTCDateTime
from rewards.catalog.models import Reward

VOUCHER_STATUSES = ("issued", "redeemed", "cancelled")


class Voucher(Base):
    """A reward issued to a member, with an unguessable code, usable once before ``expires_at``."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    #: ``issued`` until used (``redeemed``) or given back (``cancelled``); expiry is ``expires_at``.
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(Money())
    percent: Mapped[int | None] = mapped_column(Integer)
    #: Points debited for it, returned if it is cancelled unused.
    points_cost: Mapped[int] = mapped_column(BigInteger)
    #: Why it was issued: ``redemption`` (the member chose it), ``threshold`` (automatic), ``scenario``.
    source: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redeemed_store_code: Mapped[str | None] = mapped_column(String(32))
    redeemed_receipt_no: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reward: Mapped[Reward] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("status IN ('issued', 'redeemed', 'cancelled')", name="status_known"),
        CheckConstraint(
            "(status = 'redeemed') = (redeemed_at IS NOT NULL)", name="redeemed_has_time"
        ),
        Index("ix_vouchers_member_id_status", "member_id", "status"),
        # The dashboard's rewards redeemed over a period (reporting/).
        Index("ix_vouchers_issued_at", "issued_at"),
    )

    def state(self, at: datetime) -> str:
        """``issued``, ``redeemed``, ``cancelled`` or ``expired`` (issued but past its date)."""
        return "expired" if self.status == "issued" and self.expires_at <= at else self.status
