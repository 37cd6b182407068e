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
from loyalty.db import one_of
from loyalty.events import PurchaseRecorded
from notifications.journeys.context import event_context, purchase_contexts
from notifications.journeys.entry import Candidate, enter
from notifications.journeys.models import Journey
from notifications.scenarios.definition import Definition
from notifications.scenarios.models import Scenario
from notifications.scenarios.operations import definition_of, parse

PURCHASES = ("PurchaseRecorded", "PurchaseClaimed")


def enter_triggered(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
    """The ``journeys`` consumer: each member's event enters the member into the scenarios it
    triggers (the event's id is the entry key) and, for a purchase, converts and wakes journeys.

    A batch at a time: one entry statement per scenario for all the events that trigger it (the
    purchases they carry read in one query), then the conversions of the batch's purchases, in order,
    over their buyers' journeys read at once, and one wake-up for them all. A scenario a member may
    enter once, or once per cooldown, takes their first event of the batch.
    """
    triggered = _event_scenarios(session)
    definitions = {scenario.id: parse(scenario.definition) for scenarios in triggered.values() for scenario in scenarios}
    entering: dict[int, list[tuple[Delivered, dict[str, Any]]]] = {}
    purchases: list[tuple[int, dict[str, Any], datetime]] = []
    for delivered in batch:
        event = delivered.event
        scenarios = triggered.get(event.name, ())
        is_purchase = event.name in PURCHASES
        if event.member_id is None or not (scenarios or is_purchase) or (isinstance(event, PurchaseRecorded) and event.is_history):
            continue  # most events trigger nothing: their payload is not even built
        payload = event.payload()
        for scenario in scenarios:
            if _matches(definitions[scenario.id].trigger.where, payload):
                entering.setdefault(scenario.id, []).append((delivered, payload))
        if is_purchase:
            purchases.append((event.member_id, payload, event.occurred_at))
    if entering:
        _enter_all(session, triggered, definitions, entering, now)
    if purchases:
        record_purchases(session, purchases, now=now)
    session.flush()


def _enter_all(
    session: Session,
    triggered: dict[str, list[Scenario]],
    definitions: dict[int, Definition],
    entering: dict[int, list[tuple[Delivered, dict[str, Any]]]],
    now: datetime,
) -> None:
    """One :func:`enter` per scenario, each candidate with its event's entry key."""
    bought = sorted({payload["purchase_id"] for events in entering.values() for d, payload in events if d.event.name in PURCHASES and "purchase_id" in payload})
    contexts = purchase_contexts(session, bought)
    scenarios = {scenario.id: scenario for found in triggered.values() for scenario in found}
    for scenario_id, events in entering.items():
        definition = definitions[scenario_id]
        candidates: dict[Any, Candidate] = {}
        for delivered, payload in events:
            member_id = delivered.event.member_id
            assert member_id is not None
            key = member_id if definition.once or definition.cooldown else delivered.id
            candidates.setdefault(
                key, Candidate(member_id, event_context(session, delivered.event.name, payload, contexts), f"event:{delivered.id}")
            )
        enter(session, scenarios[scenario_id], definition, list(candidates.values()), entry_key="", now=now)


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


def record_purchases(session: Session, purchases: Sequence[tuple[int, dict[str, Any], datetime]], *, now: datetime) -> None:
    """Members bought (``(member, purchase payload, when)``, in order): the journeys each purchase
    converts (entered before it, within their goal's window, not converted yet) take its revenue;
    those whose goal ends them end; the buyers' journeys waiting for a purchase wake up (one query to
    read the journeys, one to wake them)."""
    buyers = sorted({member_id for member_id, _, _ in purchases})
    journeys: dict[int, list[Journey]] = {}
    found = session.scalars(
        select(Journey)
        .where(
            one_of(session, Journey.member_id, buyers),
            Journey.converted_at.is_(None),
            Journey.entered_at < max(at for _, _, at in purchases),
        )
        .order_by(Journey.id)
    )
    for journey in found:
        journeys.setdefault(journey.member_id, []).append(journey)
    definitions: dict[tuple[int, int], Definition] = {}
    for member_id, payload, at in purchases:
        for journey in journeys.get(member_id, ()):
            if journey.converted_at is not None or journey.entered_at >= at:
                continue
            version = (journey.scenario_id, journey.scenario_version)
            if version not in definitions:
                definitions[version] = definition_of(session, *version)
            goal = definitions[version].goal
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
    session.execute(
        update(Journey)
        .where(Journey.status == "active", Journey.waiting_for == "purchased", one_of(session, Journey.member_id, buyers))
        .values(due_at=now),
        execution_options={"synchronize_session": False},
    )


def wake(session: Session, *, reaction: str, now: datetime, member_id: int | None = None, journey_id: int | None = None) -> None:
    """Make the journeys waiting for ``reaction`` due now (a branch decides at once)."""
    query = update(Journey).where(Journey.status == "active", Journey.waiting_for == reaction)
    query = query.where(Journey.member_id == member_id) if journey_id is None else query.where(Journey.id == journey_id)
    session.execute(query.values(due_at=now), execution_options={"synchronize_session": False})
