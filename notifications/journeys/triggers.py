"""Publishing the outbox: each committed domain event, read once, enters members into the scenarios
it triggers, converts the journeys a purchase completes and wakes the journeys waiting for it.

Events are claimed in order with ``SKIP LOCKED`` and marked published in the same transaction as
the journeys they start: a worker killed mid-batch leaves its events unpublished for the next one,
and an event published twice cannot start a journey twice (its id is the entry key).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.outbox import OutboxEvent
from notifications.journeys.context import event_context
from notifications.journeys.entry import Candidate, enter
from notifications.journeys.models import Journey
from notifications.scenarios.models import Scenario
from notifications.scenarios.operations import definition_of, parse

PURCHASES = ("PurchaseRecorded", "PurchaseClaimed")


def publish_outbox(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Hand on up to ``limit`` unpublished events; returns how many."""
    events = list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0
    triggered = _event_scenarios(session)
    for event in events:
        if event.member_id is not None:
            for scenario in triggered.get(event.event_type, ()):
                definition = parse(scenario.definition)
                if _matches(definition.trigger.where, event.payload):
                    context = event_context(session, event.event_type, event.payload)
                    enter(
                        session,
                        scenario,
                        definition,
                        [Candidate(event.member_id, context)],
                        entry_key=f"event:{event.id}",
                        now=now,
                    )
            if event.event_type in PURCHASES:
                record_purchase(session, event.member_id, event.payload, at=event.occurred_at, now=now)
        event.published_at = now
    session.flush()
    return len(events)


def _event_scenarios(session: Session) -> dict[str, list[Scenario]]:
    by_event: dict[str, list[Scenario]] = {}
    for scenario in session.scalars(select(Scenario).where(Scenario.status == "active").order_by(Scenario.id)):
        event = scenario.definition.get("trigger", {}).get("event")
        if event:
            by_event.setdefault(event, []).append(scenario)
    return by_event


def _matches(where: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Every field of ``where`` equals the payload's (or is among the values of a list)."""
    for name, expected in where.items():
        value = payload.get(name)
        if isinstance(expected, list):
            if value not in expected:
                return False
        elif value != expected:
            return False
    return True


def record_purchase(session: Session, member_id: int, payload: dict[str, Any], *, at: datetime, now: datetime) -> None:
    """A member bought: the journeys it converts (entered before it, within their goal's window, not
    converted yet) take its revenue; those whose goal ends them end; those waiting for a purchase wake up."""
    journeys = session.scalars(
        select(Journey).where(Journey.member_id == member_id, Journey.converted_at.is_(None), Journey.entered_at < at)
    )
    for journey in journeys:
        goal = definition_of(session, journey.scenario_id, journey.scenario_version).goal
        if goal is None or at - journey.entered_at > goal.within:
            continue
        journey.converted_at = at
        journey.conversion_purchase_id = payload.get("purchase_id")
        journey.revenue = Decimal(str(payload.get("total", "0")))
        if goal.ends_journey and journey.status == "active" and not journey.is_holdout:
            journey.status = "ended"
            journey.end_reason = "goal"
            journey.ended_at = now
            journey.due_at = None
            journey.waiting_for = None
    wake(session, member_id=member_id, reaction="purchased", now=now)


def wake(session: Session, *, reaction: str, now: datetime, member_id: int | None = None, journey_id: int | None = None) -> None:
    """Make the journeys waiting for ``reaction`` due now (a branch decides at once)."""
    query = update(Journey).where(Journey.status == "active", Journey.waiting_for == reaction)
    query = query.where(Journey.member_id == member_id) if journey_id is None else query.where(Journey.id == journey_id)
    session.execute(query.values(due_at=now), execution_options={"synchronize_session": False})
