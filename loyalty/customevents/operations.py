"""Custom event use cases: define event types; name the member an event is posted for.

Recording an event awards the engagement actions bound to its type: it is
:func:`loyalty.engagement.custom_events.record_custom_event`, in the package above this one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.customevents.models import CustomEventType
from loyalty.customevents.validation import check_schema
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.members.models import Member

#: The ways a posting system names the member: exactly one of them.
MEMBER_KEYS = ("member_id", "card_number", "external_id")


def list_event_types(session: Session) -> list[CustomEventType]:
    return list(session.scalars(select(CustomEventType).order_by(CustomEventType.key)))


def get_event_type(session: Session, key: str) -> CustomEventType:
    found = session.scalar(select(CustomEventType).where(CustomEventType.key == key))
    if found is None:
        raise NotFound(f"no event type is called {key!r}", field="key")
    return found


def save_event_type(session: Session, fields: dict[str, Any], *, now: datetime, key: str | None = None) -> CustomEventType:
    """Create an event type, or change the one with ``key``; its schema must be a valid JSON Schema of
    an object."""
    if "json_schema" in fields:
        check_schema(fields["json_schema"])
    if key is None:
        if session.scalar(select(CustomEventType.id).where(CustomEventType.key == fields["key"])) is not None:
            raise Conflict(f"an event type called {fields['key']!r} exists already", field="key")
        event_type = CustomEventType(is_active=True, created_at=now)
    else:
        event_type = get_event_type(session, key)
    for name, value in fields.items():
        setattr(event_type, name, value)
    session.add(event_type)
    session.flush()
    return event_type


def resolve_member(session: Session, identifiers: dict[str, Any]) -> int:
    """The id of the member named by ``member_id``, ``card_number`` or ``external_id`` (exactly one)."""
    given = [name for name in MEMBER_KEYS if identifiers.get(name) is not None]
    if len(given) != 1:
        raise InvalidOperation("exactly one of member_id, card_number or external_id", field="member_id")
    name = given[0]
    column = {"member_id": Member.id, "card_number": Member.card_number, "external_id": Member.external_id}[name]
    member_id = session.scalar(select(Member.id).where(column == identifiers[name]))
    if member_id is None:
        raise InvalidOperation(f"no member has this {name.replace('_', ' ')}", field=name)
    return member_id
