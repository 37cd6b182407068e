"""Member use cases: enrol, update, find, authenticate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import table_of, violated_unique_columns
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.events import MemberEnrolled, MemberUpdated
from loyalty.members import codes, passwords
from loyalty.members.models import Member
from loyalty.engagement.referrals import check_not_self_referral
from loyalty.program.operations import get_settings
from loyalty.tiers.operations import record_enrolment_tier

CONSENT_CHANNELS = ("email", "sms", "push", "postal")
#: Fields a program may require for a complete profile (``profile_completed``).
PROFILE_FIELDS = ("first_name", "last_name", "phone", "birth_date", "email")
#: Fields a member may change on their own profile; the back office may also change the others.
SELF_SERVICE_FIELDS = frozenset(
    {"email", "first_name", "last_name", "phone", "birth_date", "locale", "timezone", "consents", "preferred_channel", "password",
     "postal_address"}
)


@dataclass
class NewMember:
    email: str
    first_name: str
    last_name: str
    phone: str | None = None
    birth_date: date | None = None
    card_number: str | None = None
    external_id: str | None = None
    locale: str | None = None
    timezone: str | None = None
    consents: dict[str, bool] = field(default_factory=dict)
    preferred_channel: str = "email"
    password: str | None = None
    #: The sponsor's referral code, when the member was referred.
    referral_code: str | None = None
    postal_address: dict[str, str | None] | None = None


def enroll_member(session: Session, data: NewMember, *, now: datetime, source: str) -> Member:
    """Enrol a new member: unique email, card number (generated when absent) and referral code.

    Records ``MemberEnrolled``. A duplicate email, card number or external id is a :class:`Conflict`
    naming the field.
    """
    settings = get_settings(session)
    sponsor_id = None
    if data.referral_code:
        sponsor = session.scalar(select(Member).where(Member.referral_code == data.referral_code.upper()))
        if sponsor is None:
            raise InvalidOperation("no member has this referral code", field="referral_code")
        check_not_self_referral(sponsor, phone=data.phone, last_name=data.last_name, birth_date=data.birth_date)
        sponsor_id = sponsor.id
    member = Member(
        email=normalize_email(data.email),
        first_name=data.first_name,
        last_name=data.last_name,
        phone=data.phone,
        birth_date=data.birth_date,
        card_number=data.card_number or codes.new_card_number(),
        external_id=data.external_id,
        locale=data.locale or settings.default_locale,
        timezone=data.timezone or settings.default_timezone,
        preferred_channel=data.preferred_channel,
        password_hash=passwords.hash_password(data.password) if data.password else None,
        referral_code=codes.new_referral_code(),
        sponsor_id=sponsor_id,
        points_balance=0,
        pending_points=0,
        lifetime_points=0,
        purchase_count=0,
        enrolled_at=now,
        updated_at=now,
        **{f"consent_{channel}": bool(data.consents.get(channel, False)) for channel in CONSENT_CHANNELS},
    )
    member.postal_address = data.postal_address
    record_enrolment_tier(session, member, now=now)
    _insert_unique(session, member)
    session.flush()
    if outbox.record(session, MemberEnrolled(occurred_at=now, member_id=member.id, sponsor_id=sponsor_id, source=source)):
        session.refresh(member)  # a reaction may have credited points (account creation)
    return member


def update_member(session: Session, member_id: int, changes: Mapping[str, Any], *, now: datetime) -> Member:
    """Apply ``changes`` (already validated) to a member's profile; records ``MemberUpdated``."""
    member = get_member(session, member_id)
    changed: list[str] = []
    for name, value in changes.items():
        if name == "consents":
            for channel, given in value.items():
                if getattr(member, f"consent_{channel}") != given:
                    setattr(member, f"consent_{channel}", given)
                    changed.append(f"consents.{channel}")
        elif name == "password":
            member.password_hash = passwords.hash_password(value)
            changed.append("password")
        else:
            value = normalize_email(value) if name == "email" else value
            if getattr(member, name) != value:
                setattr(member, name, value)
                changed.append(name)
    if changed:
        member.updated_at = now
        _flush_unique(session, member)
        if outbox.record(session, MemberUpdated(occurred_at=now, member_id=member.id, changed=changed)):
            session.refresh(member)  # a reaction may have credited points (profile completion)
    return member


def get_member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    return member


def find_by_card(session: Session, card_number: str) -> Member:
    member = session.scalar(select(Member).where(Member.card_number == card_number))
    if member is None:
        raise NotFound("no member has this card number", field="card_number")
    return member


def authenticate(session: Session, email: str, password: str) -> Member | None:
    """The member with this email and password, or None (same effort either way)."""
    member = session.scalar(select(Member).where(Member.email == normalize_email(email)))
    if not passwords.verify_password(member.password_hash if member else None, password):
        return None
    return member


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _insert_unique(session: Session, member: Member) -> None:
    session.add(member)
    _flush_unique(session, member)


def _flush_unique(session: Session, member: Member) -> None:
    """Flush in a savepoint, turning a unique violation into a :class:`Conflict` on its field."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        columns = violated_unique_columns(error, table_of(Member))
        if columns is None:
            raise
        raise Conflict(f"another member already has this {columns[0].replace('_', ' ')}", field=columns[0]) from error
