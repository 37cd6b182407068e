"""Scans: scenarios triggered by a state rather than an event, each one indexed query (design rule 6).

- ``near_threshold``: spendable balance within ``distance`` points below an active point threshold
  (``ix_members_points_balance``); the distance may differ per A/B variant.
- ``inactive``: a purchase once, none for ``days`` days (``ix_members_last_purchase_at``); one journey
  per inactivity spell (the entry key is the date of the last purchase), and members who entered
  since their last purchase are left out by the query, so a daily run only looks at newcomers.
- ``enrolled_without_purchase``: enrolled ``days`` days ago or more, never bought
  (``ix_members_enrolled_at``); once per member.
- ``date``: a birthday or enrolment anniversary ``-offset_days`` days ahead on the member's own
  calendar (``ix_members_birthday_md`` / ``ix_members_enrolled_md``); once a year. An anniversary
  brings how many years the member has been with the program (``date.years``).

Members the re-entry rule keeps out are excluded by the query (``NOT EXISTS`` on the journeys index),
so a scan that runs every few minutes only looks at newcomers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from loyalty.members.models import Member, month_day
from notifications.journeys.entry import Candidate, assign, can_enter_in_sql, enter, enter_selected
from notifications.journeys.models import Journey
from notifications.scenarios.definition import Definition, resolve
from notifications.scenarios.models import Scenario
from notifications.scenarios.operations import parse
from rewards.thresholds.models import PointThreshold

#: Candidates entered per statement.
BATCH = 10_000

_Columns = TypeVarTuple("_Columns")


def run_scan(session: Session, scenario: Scenario, *, now: datetime) -> int:
    """Run one scenario's scan and enter the members it finds; returns how many entered."""
    definition = parse(scenario.definition)
    scan = definition.trigger.scan
    if scan == "near_threshold":
        return _near_threshold(session, scenario, definition, now)
    if scan == "inactive":
        days = int(definition.trigger.options["days"])
        entered_this_spell = select(Journey.id).where(
            Journey.scenario_id == scenario.id,
            Journey.member_id == Member.id,
            Journey.entered_at > Member.last_purchase_at,
        )
        query = select(Member.id, Member.last_purchase_at).where(
            Member.purchase_count > 0, Member.last_purchase_at <= now - timedelta(days=days), ~exists(entered_this_spell)
        )
        rows = session.execute(_not_recently_in(query, scenario, definition, now)).all()
        candidates = []
        for member_id, last in rows:
            assert last is not None  # the query keeps members whose last purchase is before the cutoff
            context = {"inactive_since": last.date().isoformat()}
            candidates.append(Candidate(member_id, context, entry_key=f"inactive:{last.isoformat()}"))
        return _enter_all(session, scenario, definition, candidates, "inactive", now, rule_applied=True)
    if scan == "enrolled_without_purchase":
        days = int(definition.trigger.options["days"])
        never_bought = select(Member.id).where(
            Member.purchase_count == 0, Member.enrolled_at <= now - timedelta(days=days)
        )
        ids = session.scalars(_not_recently_in(never_bought, scenario, definition, now)).all()
        return _enter_all(session, scenario, definition, [Candidate(i, {}) for i in ids], "enrolled", now, rule_applied=True)
    return _dates(session, scenario, definition, now)


def scan_query_near_threshold(
    scenario: Scenario, definition: Definition, threshold: int, now: datetime
) -> Select[int, int]:
    """The near-threshold query for one threshold (the widest distance of all variants)."""
    widest = max(
        int(resolve(definition.trigger.options["distance"], definition.params_for(v)))
        for v in [None, *(variant.key for variant in definition.variants)]
    )
    query = select(Member.id, Member.points_balance).where(
        Member.points_balance >= threshold - widest, Member.points_balance < threshold
    )
    return _not_recently_in(query, scenario, definition, now)


def _near_threshold(session: Session, scenario: Scenario, definition: Definition, now: datetime) -> int:
    """Members within their variant's distance below each active threshold. The journey captures the
    threshold and the balance at entry; the reward's name and texts are read when a message is sent
    (``threshold_reward``), not copied into every journey."""
    thresholds = session.scalars(
        select(PointThreshold.points).where(PointThreshold.is_active.is_(True)).order_by(PointThreshold.points)
    ).all()
    distances = {
        variant: int(resolve(definition.trigger.options["distance"], definition.params_for(variant)))
        for variant in [None, *(variant.key for variant in definition.variants)]
    }
    entered = 0
    for points in thresholds:
        key = f"near:{points}:{now.date()}"
        query = scan_query_near_threshold(scenario, definition, points, now)
        if can_enter_in_sql(session, definition):
            context = func.json_build_object("threshold", points, "points", func.json_build_object("at_entry", Member.points_balance))
            entered += enter_selected(session, scenario, definition, query.with_only_columns(Member.id, context), entry_key=key, now=now)
            continue
        candidates = []
        for member_id, balance in session.execute(query):
            if definition.variants and balance < points - distances[assign(scenario.key, definition, member_id)[0]]:
                continue
            candidates.append(Candidate(member_id, {"threshold": points, "points": {"at_entry": balance}}))
        entered += _enter_all(session, scenario, definition, candidates, key, now, rule_applied=True)
    return entered


def _dates(session: Session, scenario: Scenario, definition: Definition, now: datetime) -> int:
    """Members whose date is ``-offset_days`` ahead of their own today (time zones from UTC-12 to
    UTC+14 make that one of three calendar dates)."""
    ahead = -int(definition.trigger.options["offset_days"])
    column = Member.birthday_md if definition.trigger.options["date"] == "birthday" else Member.enrolled_md
    targets = {month_day(now.date() + timedelta(days=ahead + shift)) for shift in (-1, 0, 1)}
    targets |= {228} if 229 in targets else set()  # 29 February is celebrated on the 28th in other years
    query = select(Member.id, Member.timezone, Member.birth_date, Member.enrolled_at).where(column.in_(targets))
    candidates = []
    for member_id, timezone, birth_date, enrolled_at in session.execute(query):
        local_today = now.astimezone(ZoneInfo(timezone)).date()
        day = local_today + timedelta(days=ahead)
        if column is Member.birthday_md:
            assert birth_date is not None  # birthday_md is kept from the birth date, None without one
            original = birth_date
        else:
            original = enrolled_at.date()
        if _celebrated_on(original, day.year) == day:
            context: dict[str, Any] = {
                "date": {"day": day.isoformat(), "valid_from": day.isoformat(), "valid_until": day.isoformat()}
            }
            if column is Member.enrolled_md:
                context["date"]["years"] = day.year - original.year
            candidates.append(Candidate(member_id, context, entry_key=f"date:{day.year}"))
    return _enter_all(session, scenario, definition, candidates, "date", now)


def _celebrated_on(original: date, year: int) -> date:
    try:
        return original.replace(year=year)
    except ValueError:  # 29 February, in a year without one
        return date(year, 2, 28)


def _not_recently_in(
    query: Select[*_Columns], scenario: Scenario, definition: Definition, now: datetime
) -> Select[*_Columns]:
    """``query`` without the members the re-entry rule keeps out."""
    if not (definition.once or definition.cooldown):
        return query
    inside = select(Journey.id).where(Journey.scenario_id == scenario.id, Journey.member_id == Member.id)
    if definition.cooldown:
        inside = inside.where(Journey.entered_at > now - definition.cooldown)
    return query.where(~exists(inside))


def _enter_all(
    session: Session,
    scenario: Scenario,
    definition: Definition,
    candidates: Sequence[Candidate],
    key: str,
    now: datetime,
    *,
    rule_applied: bool = False,
) -> int:
    """Enter the candidates in batches, in member order: the journeys' ids (the order their steps run
    in when due at the same instant) do not depend on the order the database found the members in.
    ``rule_applied``: the scan's query left out the members the re-entry rule keeps out."""
    ordered = sorted(candidates, key=lambda candidate: candidate.member_id)
    return sum(
        enter(session, scenario, definition, batch, entry_key=key, now=now, rule_applied=rule_applied)
        for batch in _batches(ordered)
    )


def _batches(items: Sequence[Candidate]) -> Iterator[Sequence[Candidate]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]
