"""The ``journeys`` outbox consumer: each committed domain event, read once, enters members into the
scenarios it triggers, converts the journeys a purchase completes and wakes the journeys waiting for it.

The consumer's cursor moves in the same transaction as the journeys it starts (:mod:`loyalty.consumers`),
and an event read twice could not start a journey twice anyway (its id is the entry key).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.consumers import Delivered
from loyalty.events import PurchaseRecorded
from notifications.journeys.context import event_context
from notifications.journeys.entry import Candidate, enter
from notifications.journeys.models import Journey
from notifications.scenarios.models import Scenario
from notifications.scenarios.operations import definition_of, parse

PURCHASES = ("PurchaseRecorded", "PurchaseClaimed")


def enter_triggered(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
    """The ``journeys`` consumer: each member's event enters the member into the scenarios it
    triggers (the event's id is the entry key) and, for a purchase, converts and wakes journeys."""
    triggered = _event_scenarios(session)
    for delivered in batch:
        event = delivered.event
        if event.member_id is None or (isinstance(event, PurchaseRecorded) and event.is_history):
            continue
        payload = event.payload()
        for scenario in triggered.get(event.name, ()):
            definition = parse(scenario.definition)
            if _matches(definition.trigger.where, payload):
                context = event_context(session, event.name, payload)
                enter(
                    session,
                    scenario,
                    definition,
                    [Candidate(event.member_id, context)],
                    entry_key=f"event:{delivered.id}",
                    now=now,
                )
        if event.name in PURCHASES:
            record_purchase(session, event.member_id, payload, at=event.occurred_at, now=now)
    session.flush()


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
