"""Point thresholds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK


class PointThreshold(Base):
    """A balance that unlocks a reward when a credit carries the member from below it to it or above."""

    __tablename__ = "point_thresholds"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, unique=True)
    reward_code: Mapped[str] = mapped_column(ForeignKey("rewards.code"))
    #: Issue the reward (and debit its cost) as soon as the threshold is crossed; otherwise the member
    #: claims it with a redemption.
    auto_issue: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)
