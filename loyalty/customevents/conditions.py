"""Conditions on a custom event's properties: ``[{"property": "rating", "op": "gte", "value": 4}]``,
all of which must hold for an engagement action bound to the event type to apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loyalty.errors import InvalidOperation

_MISSING = object()


def _comparable(value: Any, expected: Any) -> bool:
    """Two numbers (booleans aside) or two strings: what an ordering compares."""
    if isinstance(value, str) and isinstance(expected, str):
        return True
    return all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in (value, expected))


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda value, expected: _comparable(value, expected) and compare(value, expected)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda value, expected: value == expected,
    "ne": lambda value, expected: value != expected,
    "in": lambda value, expected: value in expected,
    "gt": _ordered(lambda value, expected: value > expected),
    "gte": _ordered(lambda value, expected: value >= expected),
    "lt": _ordered(lambda value, expected: value < expected),
    "lte": _ordered(lambda value, expected: value <= expected),
    "exists": lambda value, expected: (value is not _MISSING) == bool(expected),
}


def check_conditions(conditions: list[dict[str, Any]], known: set[str] | None, *, field: str = "conditions") -> None:
    """Refuse a condition on a property the event type cannot carry (``known`` None: any), or with a
    value its operator cannot use."""
    for index, condition in enumerate(conditions):
        at = f"{field}.{index}"
        name, op = condition.get("property"), condition.get("op")
        if not isinstance(name, str) or not name:
            raise InvalidOperation("a property name", field=f"{at}.property")
        if known is not None and name not in known:
            raise InvalidOperation(f"the event type has no property {name!r}", field=f"{at}.property")
        if op not in OPERATORS:
            raise InvalidOperation(f"one of {', '.join(OPERATORS)}", field=f"{at}.op")
        if "value" not in condition:
            raise InvalidOperation("a value to compare with", field=f"{at}.value")
        if op == "in" and not isinstance(condition["value"], list):
            raise InvalidOperation("a list of values", field=f"{at}.value")


def matches(conditions: list[dict[str, Any]], properties: dict[str, Any]) -> bool:
    """Whether every condition holds for ``properties``; a missing property fails all but ``exists``."""
    for condition in conditions:
        value = properties.get(condition["property"], _MISSING)
        if value is _MISSING and condition["op"] != "exists":
            return False
        if not OPERATORS[condition["op"]](value, condition["value"]):
            return False
    return True
