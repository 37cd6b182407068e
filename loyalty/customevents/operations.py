"""Custom event use cases: define event types; record an event posted for a member, once per
``(type, ref)``, with the points of the engagement actions bound to its type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.customevents.models import CustomEvent, CustomEventType
from loyalty.customevents.validation import check_properties, check_schema
from loyalty.db import insert_if_absent
from loyalty.engagement.operations import MAX_CLOCK_SKEW, MAX_ENGAGEMENT_AGE, record_for_custom_event
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.events import CustomEventRecorded
from loyalty.members.models import Member

#: The ways a posting system names the member: exactly one of them.
MEMBER_KEYS = ("member_id", "card_number", "external_id")


@dataclass(frozen=True)
class CustomEventResult:
    event: CustomEvent
    #: False when the same ``(type, ref)`` was recorded before: the original answer again.
    created: bool


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


def record_custom_event(
    session: Session,
    *,
    member_id: int,
    type_key: str,
    ref: str,
    occurred_at: datetime,
    properties: dict[str, Any],
    now: datetime,
) -> CustomEventResult:
    """Record an event the brand's systems posted, once per ``(type, ref)``.

    The properties are validated against the type's JSON Schema. The engagement actions bound to the
    type whose conditions the properties meet award their points within their limits. Records
    ``CustomEventRecorded`` (scenarios, badges). The same ``(type, ref)`` again answers the original
    event; with another member, instant or properties it is a conflict.
    """
    event_type = session.scalar(
        select(CustomEventType).where(CustomEventType.key == type_key, CustomEventType.is_active.is_(True))
    )
    if event_type is None:
        raise InvalidOperation(f"no active event type is called {type_key!r}", field="type")
    check_properties(event_type.json_schema, properties)
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise InvalidOperation("an event cannot be in the future", field="occurred_at")
    if occurred_at < now - MAX_ENGAGEMENT_AGE:
        raise InvalidOperation("an event cannot be more than a year old", field="occurred_at")
    values = {
        "event_type": type_key,
        "ref": ref,
        "member_id": member_id,
        "occurred_at": occurred_at,
        "recorded_at": now,
        "properties": properties,
        "points_awarded": 0,
    }
    event_id = insert_if_absent(session, CustomEvent, values, key=("event_type", "ref"))
    if event_id is None:
        return CustomEventResult(event=_replayed(session, values), created=False)
    points = record_for_custom_event(
        session,
        event_type=type_key,
        properties=properties,
        member_id=member_id,
        ref=ref,
        occurred_at=occurred_at,
        now=now,
    )
    if points:
        session.execute(
            update(CustomEvent).where(CustomEvent.id == event_id).values(points_awarded=points),
            execution_options={"synchronize_session": False},
        )
    outbox.record(
        session,
        CustomEventRecorded(
            occurred_at=now,
            member_id=member_id,
            event_type=type_key,
            ref=ref,
            event_occurred_at=occurred_at,
            properties=properties,
            points=points,
        ),
    )
    session.flush()
    return CustomEventResult(event=session.get_one(CustomEvent, event_id), created=True)


def _replayed(session: Session, values: dict[str, Any]) -> CustomEvent:
    existing = session.scalars(
        select(CustomEvent).where(CustomEvent.event_type == values["event_type"], CustomEvent.ref == values["ref"])
    ).one()
    same = (
        existing.member_id == values["member_id"]
        and existing.occurred_at == values["occurred_at"]
        and existing.properties == values["properties"]
    )
    if not same:
        raise Conflict("this (type, ref) was recorded with another member, instant or properties", field="ref")
    return existing

