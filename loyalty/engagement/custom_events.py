"""Recording a custom event the brand's systems post for a member, once per ``(type, ref)``, with the
points of the engagement actions bound to its type.

It sits in ``loyalty.engagement``, above ``loyalty.customevents`` (the types, their schemas and the
actions' conditions on their properties), since it awards engagement actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.customevents.models import CustomEvent, CustomEventType
from loyalty.customevents.validation import check_properties
from loyalty.db import insert_if_absent
from loyalty.engagement.operations import MAX_CLOCK_SKEW, MAX_ENGAGEMENT_AGE, record_for_custom_event
from loyalty.errors import Conflict, InvalidOperation
from loyalty.events import CustomEventRecorded


@dataclass(frozen=True)
class CustomEventResult:
    event: CustomEvent
    #: False when the same ``(type, ref)`` was recorded before: the original answer again.
    created: bool


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
