"""Enrolment: a new member, with their sponsor when they were referred, placed in the entry tier.

It sits above ``loyalty.members`` and ``loyalty.tiers``: it uses both, and tiers read the members."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.errors import InvalidOperation
from loyalty.events import MemberEnrolled
from loyalty.members import codes, passwords
from loyalty.members.models import Member
from loyalty.members.operations import CONSENT_CHANNELS, flush_unique, normalize_email
from loyalty.program.operations import get_settings
from loyalty.tiers.operations import record_enrolment_tier


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
        _check_not_self_referral(sponsor, phone=data.phone, last_name=data.last_name, birth_date=data.birth_date)
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


def _check_not_self_referral(sponsor: Member, *, phone: str | None, last_name: str, birth_date: object) -> None:
    """Refuse a referral where the new member is visibly the sponsor again (same phone, or same last name
    and birth date). Loops cannot happen: a sponsor is set only at enrolment, to an existing member."""
    if phone and sponsor.phone and _digits(phone) == _digits(sponsor.phone):
        raise InvalidOperation("a member cannot refer themselves (same phone number)", field="referral_code")
    if birth_date is not None and sponsor.birth_date == birth_date and sponsor.last_name.lower() == last_name.lower():
        raise InvalidOperation("a member cannot refer themselves", field="referral_code")


def _insert_unique(session: Session, member: Member) -> None:
    session.add(member)
    flush_unique(session, member)


def _digits(phone: str) -> str:
    return "".join(char for char in phone if char.isdigit())[-9:]
