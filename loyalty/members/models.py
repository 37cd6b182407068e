"""The member table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, event, false, func
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime, table_of


#: The parts of a postal address, each an ``address_<part>`` column.
ADDRESS_FIELDS = ("line1", "line2", "postcode", "city", "country")


def consents_of(row: Any) -> dict[str, bool]:
    """The opt-ins by channel of a member or of a row read from its table."""
    return {
        "email": row.consent_email, "sms": row.consent_sms, "push": row.consent_push, "postal": row.consent_postal,
    }  # fmt: skip


def postal_address_of(row: Any) -> dict[str, str | None] | None:
    """The postal address of a member or of a row read from its table; None without one."""
    if row.address_line1 is None:
        return None
    return {name: getattr(row, f"address_{name}") for name in ADDRESS_FIELDS}


class Member(Base):
    """A member of the program: one row, the one source of truth read by the app, the web and tills."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date)
    #: ``month * 100 + day`` of the birth date (kept by the model), so "birthdays on 23 November" is an
    #: indexed equality on every database.
    birthday_md: Mapped[int | None] = mapped_column(Integer)
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    #: The member's id in the brand's CRM or e-commerce platform.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_push: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_postal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The postal address (optional; all of line 1, postcode, city and country, or none: set through
    #: ``postal_address``, validated by the API's schema).
    address_line1: Mapped[str | None] = mapped_column(String(100))
    address_line2: Mapped[str | None] = mapped_column(String(100))
    address_postcode: Mapped[str | None] = mapped_column(String(16))
    address_city: Mapped[str | None] = mapped_column(String(100))
    #: ISO 3166-1 alpha-2.
    address_country: Mapped[str | None] = mapped_column(String(2))
    #: The channel scenarios try first (``email``, ``sms``, ``push`` or ``in_app``) when it is consented.
    preferred_channel: Mapped[str] = mapped_column(String(8), default="email")
    #: argon2 hash; NULL for members who never set a password (they cannot log in).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: The member's own code, given to friends they sponsor.
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    #: Spendable points: a cache of the sum of the member's ledger entries, updated atomically with them.
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Purchase points earned but not spendable until their return window ends (not in the ledger yet).
    pending_points: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Qualifying points ever earned (purchases and engagement, less returns); redemptions never lower it.
    lifetime_points: Mapped[int] = mapped_column(BigInteger, default=0)
    tier_code: Mapped[str] = mapped_column(String(32))
    tier_since: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the tier is next reviewed (a downgrade can only happen then); NULL in the entry tier.
    tier_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when the member's referral was rewarded (after their first qualifying purchase).
    referral_rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Purchases recorded for the member (claims included); 1 after the first.
    purchase_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: ``month * 100 + day`` of the enrolment (UTC), for anniversary scans.
    enrolled_md: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("purchase_count >= 0", name="purchase_count_not_negative"),
        CheckConstraint("pending_points >= 0", name="pending_not_negative"),
        Index("ix_members_tier_review_at", "tier_review_at", "id"),
        Index("ix_members_last_purchase_at", "last_purchase_at"),
        Index("ix_members_enrolled_at", "enrolled_at"),
        Index("ix_members_points_balance", "points_balance"),
        # The back office's members by tier, in total and their points (reporting/): one index-only count.
        Index("ix_members_tier_code", "tier_code", postgresql_include=["points_balance"]),
        Index("ix_members_birthday_md", "birthday_md"),
        Index("ix_members_enrolled_md", "enrolled_md"),
        # Support finds members by phone and by name (loyalty.members.search).
        Index("ix_members_phone", "phone"),
        Index("ix_members_lower_last_name", func.lower(last_name)),
        Index("ix_members_lower_first_name", func.lower(first_name)),
    )

    @property
    def consents(self) -> dict[str, bool]:
        return consents_of(self)

    @property
    def postal_address(self) -> dict[str, str | None] | None:
        """``{"line1", "line2", "postcode", "city", "country"}``, or None without an address."""
        return postal_address_of(self)

    @postal_address.setter
    def postal_address(self, value: dict[str, str | None] | None) -> None:
        for name in ADDRESS_FIELDS:
            setattr(self, f"address_{name}", (value or {}).get(name))


#: The members' table, for Core statements (balances, tiers, reads copied from the row).
MEMBERS = table_of(Member)


def month_day(value: date) -> int:
    """``month * 100 + day``: 1123 for 23 November."""
    return value.month * 100 + value.day


@event.listens_for(Member, "before_insert")
@event.listens_for(Member, "before_update")
def _keep_month_days(mapper: object, connection: object, member: Member) -> None:
    member.birthday_md = month_day(member.birth_date) if member.birth_date else None
    member.enrolled_md = month_day(member.enrolled_at)
