"""Entering members into a scenario: variant and holdout assigned once, re-entry rules, idempotence.

The assignment is a hash of the scenario and the member: stable (the same member always lands in the
same group of a scenario) and independent between scenarios. A second entry with the same key (the
same event, the same scan day) is ignored by the unique constraint, not by a read before the write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, column, func, literal, select, table, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from loyalty.db import copy_rows, dialect_insert, one_of, rowcount, table_of
from loyalty.members.models import Member
from loyalty.segments.operations import get_segment, members_condition
from notifications.journeys.models import Journey
from notifications.scenarios.definition import Definition
from notifications.scenarios.models import Scenario


#: The unique key a second entry runs into.
ENTRY_KEY = ("scenario_id", "member_id", "entry_key")
#: The temporary table a batch of entries is copied into on PostgreSQL (dropped after the insert).
STAGING = "journeys_entering"


@dataclass(frozen=True)
class Candidate:
    member_id: int
    context: dict[str, Any]
    #: This member's own entry key, when it is not the batch's (one per inactivity spell, per year).
    entry_key: str | None = None


def bucket(scenario_key: str, member_id: int, salt: str) -> int:
    """A stable number from 0 to 9999 for this member in this scenario."""
    digest = hashlib.sha256(f"{scenario_key}:{salt}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000


def assign(scenario_key: str, definition: Definition, member_id: int) -> tuple[str | None, bool]:
    """The member's variant (None without variants) and whether they are in the holdout group."""
    variant = None
    if definition.variants:
        total = sum(v.weight for v in definition.variants)
        point = bucket(scenario_key, member_id, "variant") * total // 10_000
        for candidate in definition.variants:
            if point < candidate.weight:
                variant = candidate.key
                break
            point -= candidate.weight
    is_holdout = bucket(scenario_key, member_id, "holdout") < definition.holdout_percent * 100
    return variant, is_holdout


def recently_entered(session: Session, scenario: Scenario, definition: Definition, member_ids: Sequence[int], now: datetime) -> set[int]:
    """Those of ``member_ids`` the re-entry rule keeps out (entered once, or within the cooldown)."""
    if not (definition.once or definition.cooldown) or not member_ids:
        return set()
    query = select(Journey.member_id).where(Journey.scenario_id == scenario.id, one_of(session, Journey.member_id, member_ids))
    if definition.cooldown:
        query = query.where(Journey.entered_at > now - definition.cooldown)
    return set(session.scalars(query))


def outside_segment(session: Session, key: str, member_ids: Sequence[int], now: datetime) -> set[int]:
    """Those of ``member_ids`` not in the segment ``key`` now (one query)."""
    if not member_ids:
        return set()
    condition = members_condition(session, get_segment(session, key).definition, now=now)
    inside = set(session.scalars(select(Member.id).where(one_of(session, Member.id, member_ids), condition)))
    return set(member_ids) - inside


def enter(
    session: Session,
    scenario: Scenario,
    definition: Definition,
    candidates: Sequence[Candidate],
    *,
    entry_key: str,
    now: datetime,
    rule_applied: bool = False,
) -> int:
    """Start a journey for each candidate the re-entry rule lets in; returns how many started.
    ``rule_applied``: the candidates come from a query that already left out those the rule keeps out
    (a scan's ``NOT EXISTS``), so they are not looked up again.

    Holdout members get a journey too (it is how they are counted) that sends nothing and ends when
    its conversion window closes.
    """
    kept_out = set() if rule_applied else recently_entered(session, scenario, definition, [c.member_id for c in candidates], now)
    if definition.segment is not None:
        kept_out |= outside_segment(session, definition.segment, [c.member_id for c in candidates], now)
    holdout_until = now + definition.goal.within if definition.goal else now
    rows = []
    for candidate in candidates:
        if candidate.member_id in kept_out:
            continue
        variant, is_holdout = assign(scenario.key, definition, candidate.member_id)
        rows.append(
            {
                "member_id": candidate.member_id,
                "entry_key": "once" if definition.once else candidate.entry_key or entry_key,
                "variant": variant,
                "is_holdout": is_holdout,
                "step": None if is_holdout else definition.first_step,
                "due_at": holdout_until if is_holdout else now + definition.opening_wait(variant),
                "context": candidate.context,
            }
        )
    if not rows:
        return 0
    shared = {
        "scenario_id": scenario.id,
        "scenario_version": scenario.version,
        "status": "active",
        "step_started_at": now,
        "waiting_for": None,
        "entered_at": now,
        "messages_sent": 0,
    }
    if session.get_bind().dialect.name == "postgresql":
        return _insert_copied(session, shared, rows)
    stmt = dialect_insert(session)(Journey.__table__).on_conflict_do_nothing(index_elements=list(ENTRY_KEY))
    return rowcount(session.execute(stmt, [{**shared, **row} for row in rows]))


def can_enter_in_sql(session: Session, definition: Definition) -> bool:
    """Whether a scan's candidates can be entered by one ``INSERT … SELECT`` on PostgreSQL: no variant
    or holdout to draw per member, no segment to check."""
    return (
        session.get_bind().dialect.name == "postgresql"
        and not definition.variants
        and not definition.holdout_percent
        and definition.segment is None
    )


def enter_selected(
    session: Session, scenario: Scenario, definition: Definition, selected: Select[Any], *, entry_key: str, now: datetime
) -> int:
    """Start a journey for each row of ``selected`` (member id, context), by member id, in one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING``; ``selected`` already leaves out those the re-entry
    rule keeps out (:func:`can_enter_in_sql` says when this applies)."""
    journeys = table_of(Journey)
    rows = selected.subquery("entering")
    member_id, context = list(rows.c)
    shared = {
        "scenario_id": scenario.id,
        "scenario_version": scenario.version,
        "entry_key": "once" if definition.once else entry_key,
        "variant": None,
        "is_holdout": False,
        "status": "active",
        "step": definition.first_step,
        "step_started_at": now,
        "due_at": now + definition.opening_wait(None),
        "waiting_for": None,
        "entered_at": now,
        "messages_sent": 0,
    }
    columns = [*(literal(value, journeys.c[name].type) for name, value in shared.items()), member_id, context]
    stmt = (
        pg_insert(journeys)
        .from_select([*shared, "member_id", "context"], select(*columns).order_by(member_id))
        .on_conflict_do_nothing(index_elements=list(ENTRY_KEY))
        .returning(journeys.c.id)
        .cte("entered")
    )
    return session.scalar(select(func.count()).select_from(stmt)) or 0


def _insert_copied(session: Session, shared: dict[str, Any], rows: list[dict[str, Any]]) -> int:
    """``COPY`` the columns that vary into a temporary table, then ``INSERT … SELECT … ON CONFLICT DO
    NOTHING``: psycopg formats the rows in C (an ``unnest`` of arrays escaped each JSON context in
    Python), and the columns every row shares travel once, as parameters."""
    journeys = table_of(Journey)
    varying = list(rows[0])
    session.execute(text(f"CREATE TEMPORARY TABLE {STAGING} ON COMMIT DROP AS SELECT {', '.join(varying)} FROM journeys WITH NO DATA"))
    copy_rows(session, journeys, varying, (list(row.values()) for row in rows), into=STAGING)
    staged = table(STAGING, *(column(name, journeys.c[name].type) for name in varying))
    columns = [*(literal(value, journeys.c[name].type) for name, value in shared.items()), *(staged.c[name] for name in varying)]
    stmt = (
        pg_insert(journeys)
        .from_select([*shared, *varying], select(*columns).select_from(staged))
        .on_conflict_do_nothing(index_elements=list(ENTRY_KEY))
        .returning(journeys.c.id)
    )
    entered = len(session.execute(stmt).all())
    session.execute(text(f"DROP TABLE {STAGING}"))
    return entered
