"""Scenario use cases: create, change (a new version), activate, pause; read definitions by version."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.events import DomainEvent
from loyalty.segments.models import Segment
from notifications.scenarios.definition import Definition, parse_definition, resolve
from notifications.scenarios.models import MessageTemplate, Scenario, ScenarioVersion
from rewards.catalog.models import Reward

STATUSES = ("draft", "active", "paused")


def event_names() -> frozenset[str]:
    """The names of every domain event a trigger may name."""
    names: set[str] = set()
    pending = list(DomainEvent.__subclasses__())
    while pending:
        event = pending.pop()
        names.add(event.name)
        pending.extend(event.__subclasses__())
    return frozenset(names)


@lru_cache(maxsize=256)
def _parsed(serialized: str) -> Definition:
    return parse_definition(json.loads(serialized), event_names=event_names())


def parse(definition: dict[str, Any]) -> Definition:
    """The parsed definition (cached by content: versions never change once saved)."""
    return _parsed(json.dumps(definition, sort_keys=True))


def list_scenarios(session: Session) -> list[Scenario]:
    return list(session.scalars(select(Scenario).order_by(Scenario.key)))


def get_scenario(session: Session, key: str) -> Scenario:
    scenario = session.scalar(select(Scenario).where(Scenario.key == key))
    if scenario is None:
        raise NotFound(f"no scenario has the key {key!r}", field="key")
    return scenario


def scenario_versions(session: Session, key: str) -> list[ScenarioVersion]:
    """Every saved version of a scenario's definition, newest first."""
    scenario = get_scenario(session, key)
    return list(
        session.scalars(
            select(ScenarioVersion)
            .where(ScenarioVersion.scenario_id == scenario.id)
            .order_by(ScenarioVersion.version.desc())
        )
    )


def definition_of(session: Session, scenario_id: int, version: int) -> Definition:
    """The definition a journey entered with."""
    data = session.scalar(
        select(ScenarioVersion.definition).where(
            ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.version == version
        )
    )
    if data is None:
        raise NotFound(f"scenario {scenario_id} has no version {version}")
    return parse(data)


def create_scenario(session: Session, fields: dict[str, Any], *, now: datetime) -> Scenario:
    """Create a scenario (``draft`` unless a status is given) with its first version."""
    if session.scalar(select(Scenario.id).where(Scenario.key == fields["key"])) is not None:
        raise Conflict(f"a scenario has the key {fields['key']!r} already", field="key")
    check_definition(session, fields["definition"])
    scenario = Scenario(
        key=fields["key"],
        name=fields["name"],
        description=fields.get("description", ""),
        status=fields.get("status", "draft"),
        is_marketing=fields.get("is_marketing", True),
        version=1,
        definition=fields["definition"],
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(scenario)
            session.flush()
    except IntegrityError:  # the same key created at the same instant by another request
        raise Conflict(f"a scenario has the key {fields['key']!r} already", field="key") from None
    session.add(ScenarioVersion(scenario_id=scenario.id, version=1, definition=fields["definition"], created_at=now))
    session.flush()
    return scenario


def update_scenario(session: Session, key: str, changes: dict[str, Any], *, now: datetime) -> Scenario:
    """Change a scenario; a new definition becomes a new version (journeys in progress keep theirs)."""
    scenario = get_scenario(session, key)
    for name in ("name", "description", "is_marketing", "status"):
        if name in changes:
            setattr(scenario, name, changes[name])
    definition = changes.get("definition")
    if definition is not None and definition != scenario.definition:
        check_definition(session, definition)
        scenario.version += 1
        scenario.definition = definition
        session.add(
            ScenarioVersion(scenario_id=scenario.id, version=scenario.version, definition=definition, created_at=now)
        )
    scenario.updated_at = now
    session.flush()
    return scenario


def set_status(session: Session, key: str, status: str, *, now: datetime) -> Scenario:
    """Activate or pause a scenario: a paused one lets nobody in; journeys in progress go on."""
    if status not in STATUSES:
        raise InvalidOperation(f"one of {', '.join(STATUSES)}", field="status")
    return update_scenario(session, key, {"status": status}, now=now)


def check_definition(session: Session, data: dict[str, Any]) -> Definition:
    """Validate a definition, and that the templates, offers and segment it names exist."""
    definition = parse(data)
    if definition.segment is not None and session.scalar(select(Segment.id).where(Segment.key == definition.segment)) is None:
        raise InvalidOperation(f"no segment is called {definition.segment!r}", field="definition.entry.segment")
    known = set(session.scalars(select(MessageTemplate.key).where(MessageTemplate.key.in_(definition.templates))))
    for index, step in enumerate(data["steps"]):
        if "send" in step and step["send"] not in known:
            raise InvalidOperation(f"no message template has the key {step['send']!r}", field=f"definition.steps[{index}].send")
    offers = set(session.scalars(select(Reward.code).where(Reward.is_offer.is_(True))))
    for variant in [None, *(v.key for v in definition.variants)]:
        params = definition.params_for(variant)
        for index, step in enumerate(data["steps"]):
            offer = resolve(step.get("grant", {}), params).get("offer") if "grant" in step else None
            if offer is not None and (not isinstance(offer, str) or offer not in offers):
                raise InvalidOperation(f"no offer reward has the code {offer!r}", field=f"definition.steps[{index}].grant.offer")
    return definition


def save_scenarios(session: Session, scenarios: list[dict[str, Any]], *, now: datetime) -> None:
    """Create each scenario of a program file (loading a program into an empty database)."""
    for fields in scenarios:
        create_scenario(session, fields, now=now)
