"""Member use cases: update, find, authenticate. Enrolment, which places the new member in the
entry tier, is :mod:`loyalty.enrolment`, above ``loyalty.tiers``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import table_of, violated_unique_columns
from loyalty.errors import Conflict, NotFound
from loyalty.events import MemberUpdated
from loyalty.members import passwords
from loyalty.members.models import Member

CONSENT_CHANNELS = ("email", "sms", "push", "postal")
#: Fields a program may require for a complete profile (``profile_completed``).
PROFILE_FIELDS = ("first_name", "last_name", "phone", "birth_date", "email")
#: Fields a member may change on their own profile; the back office may also change the others.
SELF_SERVICE_FIELDS = frozenset(
    {"email", "first_name", "last_name", "phone", "birth_date", "locale", "timezone", "consents", "preferred_channel", "password",
     "postal_address"}
)


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
        flush_unique(session, member)
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


def flush_unique(session: Session, member: Member) -> None:
    """Flush in a savepoint, turning a unique violation into a :class:`Conflict` on its field."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        columns = violated_unique_columns(error, table_of(Member))
        if columns is None:
            raise
        raise Conflict(f"another member already has this {columns[0].replace('_', ' ')}", field=columns[0]) from error
