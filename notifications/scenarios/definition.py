"""A scenario's definition: parsed from data (JSON or YAML) into typed steps, validated field by field.

The definition is what a brand writes (``docs/scenarios.md``)::

    trigger: {scan: near_threshold, distance: $distance}      # or {event: PurchaseRecorded, where: {...}}
    entry: {cooldown_days: 30}                               # or {once: true}
    holdout_percent: 10
    params: {distance: 10}
    variants: [{key: d10, weight: 1, params: {distance: 10}}, {key: d20, weight: 1, params: {distance: 20}}]
    goal: {event: purchase, within_days: 14, ends_journey: false}
    steps:
      - {id: reminder, send: near_threshold_reminder}
      - {id: opened, branch: opened, of: reminder, within: 2d, then: ..., else: ...}

A string value ``$name`` anywhere in the trigger or the steps stands for the parameter ``name``: the
scenario's ``params``, overridden by the member's variant. Every error is an
:class:`~loyalty.errors.InvalidOperation` naming the faulty field (``definition.steps[2].then``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from loyalty.errors import InvalidOperation

SCANS = ("near_threshold", "inactive", "enrolled_without_purchase", "date")
DATES = ("birthday", "enrolment_anniversary")
REACTIONS = ("opened", "clicked", "purchased")
STEP_KINDS = ("send", "wait", "wait_until", "branch", "grant", "exit")
SEND_CHANNELS = ("email", "sms", "push", "in_app", "postal")
_DURATION = re.compile(r"^(\d{1,5})(m|h|d|w)\Z")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")


@dataclass(frozen=True)
class Trigger:
    """An event (with a payload filter) or a scan, with its parameters (still holding ``$names``)."""

    event: str | None
    scan: str | None
    where: dict[str, Any]
    options: dict[str, Any]


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    #: The step's own fields (template, channels, within, then, else, grant...), ``$names`` unresolved.
    options: dict[str, Any]
    #: The step run after this one (``next``, else the following step; None after the last).
    next: str | None


@dataclass(frozen=True)
class Variant:
    key: str
    weight: int
    params: dict[str, Any]


@dataclass(frozen=True)
class Goal:
    """What converts a journey: a purchase within ``within`` of entering; it may end the journey."""

    within: timedelta
    ends_journey: bool


@dataclass(frozen=True)
class Definition:
    trigger: Trigger
    steps: dict[str, Step]
    first_step: str
    params: dict[str, Any]
    variants: tuple[Variant, ...]
    holdout_percent: int
    goal: Goal | None
    #: None: one journey per trigger occurrence; else the days before the member may enter again.
    cooldown: timedelta | None
    once: bool
    templates: frozenset[str] = field(default_factory=frozenset)
    #: Only the members of this segment enter (checked when they would).
    segment: str | None = None

    def params_for(self, variant: str | None) -> dict[str, Any]:
        """The scenario's parameters as the variant ``variant`` sees them."""
        chosen = next((v for v in self.variants if v.key == variant), None)
        return {**self.params, **(chosen.params if chosen else {})}

    def opening_wait(self, variant: str | None) -> timedelta:
        """How long a new journey of ``variant`` has nothing to do: its first step's wait when it opens
        with one (running that step would only say so), else nothing."""
        step = self.steps[self.first_step]
        if step.kind != "wait":
            return timedelta()
        try:
            return parse_duration(resolve(step.options["wait"], self.params_for(variant)), "wait")
        except InvalidOperation:
            return timedelta()  # the step fails the journey when it runs, as any broken step


def parse_duration(value: Any, where: str) -> timedelta:
    """``"90m"``, ``"1h"``, ``"2d"``, ``"1w"`` as a timedelta."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidOperation("a duration like 90m, 1h, 2d or 1w", field=where)
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def parse_time_of_day(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidOperation("a time of day like 09:00", field=where) from None


def resolve(value: Any, params: dict[str, Any]) -> Any:
    """``value`` with its ``$name`` strings replaced by the parameters (recursively)."""
    if isinstance(value, str) and value.startswith("$"):
        return params.get(value[1:])
    if isinstance(value, dict):
        return {key: resolve(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, params) for item in value]
    return value


def parse_definition(data: Any, *, event_names: frozenset[str]) -> Definition:
    """Parse and validate ``data``; ``event_names`` are the domain events a trigger may name."""
    at = "definition"
    if not isinstance(data, dict):
        raise InvalidOperation("an object", field=at)
    params = _mapping(data.get("params", {}), f"{at}.params")
    variants = _variants(data.get("variants", []), f"{at}.variants")
    trigger = _trigger(data.get("trigger"), f"{at}.trigger", event_names)
    steps = _steps(data.get("steps"), f"{at}.steps")
    holdout = data.get("holdout_percent", 0)
    if not isinstance(holdout, int) or isinstance(holdout, bool) or not 0 <= holdout <= 90:
        raise InvalidOperation("an integer from 0 to 90", field=f"{at}.holdout_percent")
    entry = _mapping(data.get("entry", {}), f"{at}.entry")
    cooldown = None
    if "cooldown_days" in entry:
        days = entry["cooldown_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
            raise InvalidOperation("a number of days from 1 to 3650", field=f"{at}.entry.cooldown_days")
        cooldown = timedelta(days=days)
    once = entry.get("once", False)
    if not isinstance(once, bool) or (once and cooldown):
        raise InvalidOperation("true or false, and not with cooldown_days", field=f"{at}.entry.once")
    segment = entry.get("segment")
    if segment is not None and (not isinstance(segment, str) or not segment):
        raise InvalidOperation("the key of a segment", field=f"{at}.entry.segment")
    unknown = set(entry) - {"cooldown_days", "once", "segment"}
    if unknown:
        raise InvalidOperation(f"unknown entry rule {min(unknown)!r}", field=f"{at}.entry")
    definition = Definition(
        trigger=trigger,
        steps={step.id: step for step in steps},
        first_step=steps[0].id,
        params=params,
        variants=variants,
        holdout_percent=holdout,
        goal=_goal(data.get("goal"), f"{at}.goal"),
        cooldown=cooldown,
        once=once,
        templates=frozenset(s.options["send"] for s in steps if s.kind == "send"),
        segment=segment,
    )
    _check_parameters(definition, data, at)
    return definition


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidOperation("an object", field=where)
    return value


def _variants(value: Any, where: str) -> tuple[Variant, ...]:
    if not isinstance(value, list) or len(value) == 1 or len(value) > 10:
        raise InvalidOperation("a list of 2 to 10 variants, or none", field=where)
    variants = []
    for index, item in enumerate(value):
        item = _mapping(item, f"{where}[{index}]")
        key = item.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidOperation("a key of lower-case letters, digits and _", field=f"{where}[{index}].key")
        weight = item.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
            raise InvalidOperation("an integer weight from 1 to 100", field=f"{where}[{index}].weight")
        variants.append(Variant(key, weight, _mapping(item.get("params", {}), f"{where}[{index}].params")))
    if len({v.key for v in variants}) != len(variants):
        raise InvalidOperation("variant keys must differ", field=where)
    return tuple(variants)


def _trigger(value: Any, where: str, event_names: frozenset[str]) -> Trigger:
    value = _mapping(value, where)
    event, scan = value.get("event"), value.get("scan")
    if (event is None) == (scan is None):
        raise InvalidOperation("either an event or a scan", field=where)
    where_filter = _mapping(value.get("where", {}), f"{where}.where")
    options = {key: item for key, item in value.items() if key not in ("event", "scan", "where")}
    if event is not None:
        if not isinstance(event, str) or event not in event_names:
            raise InvalidOperation(f"unknown event {event!r}", field=f"{where}.event")
        if options:
            raise InvalidOperation(f"an event trigger takes no {min(options)!r}", field=where)
        return Trigger(event, None, where_filter, {})
    if scan not in SCANS:
        raise InvalidOperation(f"one of {', '.join(SCANS)}", field=f"{where}.scan")
    required = {
        "near_threshold": {"distance"},
        "inactive": {"days"},
        "enrolled_without_purchase": {"days"},
        "date": {"date", "offset_days"},
    }[scan]
    missing = required - set(options)
    if missing:
        raise InvalidOperation(f"a {scan} scan needs {min(missing)}", field=f"{where}.{min(missing)}")
    extra = set(options) - required
    if extra:
        raise InvalidOperation(f"a {scan} scan takes no {min(extra)!r}", field=f"{where}.{min(extra)}")
    if scan == "date" and options["date"] not in DATES:
        raise InvalidOperation(f"one of {', '.join(DATES)}", field=f"{where}.date")
    return Trigger(None, scan, where_filter, options)


def _steps(value: Any, where: str) -> list[Step]:
    if not isinstance(value, list) or not 1 <= len(value) <= 50:
        raise InvalidOperation("a list of 1 to 50 steps", field=where)
    items = [_mapping(item, f"{where}[{index}]") for index, item in enumerate(value)]
    ids: list[str] = []
    for index, item in enumerate(items):
        step_id = item.get("id")
        if not isinstance(step_id, str) or not _KEY.match(step_id):
            raise InvalidOperation("a step id of lower-case letters, digits and _", field=f"{where}[{index}].id")
        ids.append(step_id)
    if len(set(ids)) != len(ids):
        raise InvalidOperation("step ids must differ", field=where)
    steps = []
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        kinds = [kind for kind in STEP_KINDS if kind in item]
        if len(kinds) != 1:
            raise InvalidOperation(f"exactly one of {', '.join(STEP_KINDS)}", field=at)
        kind = kinds[0]
        _check_step(kind, item, at, ids)
        following = ids[index + 1] if index + 1 < len(ids) else None
        nxt = item.get("next", following)
        if nxt is not None and nxt not in ids:
            raise InvalidOperation(f"no step has the id {nxt!r}", field=f"{at}.next")
        steps.append(Step(item["id"], kind, item, nxt))
    return steps


def _check_step(kind: str, item: dict[str, Any], at: str, ids: list[str]) -> None:
    if kind == "send":
        if not isinstance(item["send"], str) or not _KEY.match(item["send"]):
            raise InvalidOperation("a template key", field=f"{at}.send")
        channels = item.get("channels", "preferred")
        if channels != "preferred" and (
            not isinstance(channels, list) or not channels or any(c not in SEND_CHANNELS for c in channels)
        ):
            raise InvalidOperation(f"preferred, or a list of {', '.join(SEND_CHANNELS)}", field=f"{at}.channels")
    elif kind == "wait":
        _maybe_param(item["wait"], lambda v: parse_duration(v, f"{at}.wait"))
    elif kind == "wait_until":
        _maybe_param(item["wait_until"], lambda v: parse_time_of_day(v, f"{at}.wait_until"))
    elif kind == "branch":
        if item["branch"] not in REACTIONS:
            raise InvalidOperation(f"one of {', '.join(REACTIONS)}", field=f"{at}.branch")
        _maybe_param(item.get("within"), lambda v: parse_duration(v, f"{at}.within"))
        if "then" not in item and "else" not in item:
            raise InvalidOperation("a branch needs then, else or both", field=f"{at}.then")
        for name in ("then", "else"):
            if name in item and item[name] not in ids:
                raise InvalidOperation(f"no step has the id {item[name]!r}", field=f"{at}.{name}")
        if item["branch"] != "purchased" and item.get("of") not in ids:
            raise InvalidOperation("the id of the send step whose message is watched", field=f"{at}.of")
    elif kind == "grant":
        grant = _mapping(item["grant"], f"{at}.grant")
        if ("offer" in grant) == ("bonus_points" in grant):
            raise InvalidOperation("either an offer (a reward code) or bonus_points", field=f"{at}.grant")
        if "bonus_points" in grant and "within_days" not in grant:
            raise InvalidOperation("bonus points need within_days", field=f"{at}.grant.within_days")


def _maybe_param(value: Any, check: Any) -> None:
    if not (isinstance(value, str) and value.startswith("$")):
        check(value)


def _goal(value: Any, where: str) -> Goal | None:
    if value is None:
        return None
    value = _mapping(value, where)
    if value.get("event") != "purchase":
        raise InvalidOperation("purchase (the only goal measured)", field=f"{where}.event")
    days = value.get("within_days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise InvalidOperation("a number of days from 1 to 365", field=f"{where}.within_days")
    ends = value.get("ends_journey", True)
    if not isinstance(ends, bool):
        raise InvalidOperation("true or false", field=f"{where}.ends_journey")
    return Goal(timedelta(days=days), ends)


def _check_parameters(definition: Definition, data: dict[str, Any], at: str) -> None:
    """Every ``$name`` used must have a value for every variant, and durations must parse."""
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", repr([data.get("trigger"), data.get("steps")])))
    for variant in [None, *(v.key for v in definition.variants)]:
        params = definition.params_for(variant)
        for name in sorted(used):
            if name not in params:
                where = f"{at}.params.{name}" if variant is None else f"{at}.variants[{variant}].params.{name}"
                raise InvalidOperation(f"the parameter ${name} has no value", field=where)
        for step in definition.steps.values():
            options = resolve(step.options, params)
            if step.kind == "wait":
                parse_duration(options["wait"], f"{at}.params")
            elif step.kind == "wait_until":
                parse_time_of_day(options["wait_until"], f"{at}.params")
            elif step.kind == "branch" and options.get("within") is not None:
                parse_duration(options["within"], f"{at}.params")
        distance = resolve(definition.trigger.options.get("distance", 1), params)
        if not isinstance(distance, int) or isinstance(distance, bool) or not 1 <= distance <= 1_000_000:
            raise InvalidOperation("a distance in points from 1 to 1000000", field=f"{at}.trigger.distance")
