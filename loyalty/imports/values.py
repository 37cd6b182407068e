"""Reading one column of an imported row: each reader returns the typed value or raises
:class:`BadValue` naming the column and why."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}


class BadValue(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


def _given(row: dict[str, Any], column: str, *, required: bool) -> Any:
    """The column's value, or None when the row has none (a bad row if it is ``required``)."""
    value = row.get(column)
    if value is None and required:
        raise BadValue(column, "required")
    return value


def text(row: dict[str, Any], column: str, *, max_length: int, required: bool = False) -> str | None:
    value = _given(row, column, required=required)
    if value is None:
        return None
    value = str(value).strip()
    if not value or len(value) > max_length:
        raise BadValue(column, f"from 1 to {max_length} characters")
    return value


def email(row: dict[str, Any], column: str = "email") -> str | None:
    value = text(row, column, max_length=254)
    if value is not None and not EMAIL.match(value):
        raise BadValue(column, "not an email address")
    return value.lower() if value else None


def boolean(row: dict[str, Any], column: str) -> bool | None:
    value = row.get(column)
    if value is None or isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in TRUE | FALSE:
        return lowered in TRUE
    raise BadValue(column, "true or false")


def integer(row: dict[str, Any], column: str, *, minimum: int, maximum: int, required: bool = False) -> int | None:
    value = _given(row, column, required=required)
    if value is None:
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        raise BadValue(column, f"a whole number from {minimum} to {maximum}")
    return number


def money(row: dict[str, Any], column: str, *, required: bool = False) -> Decimal | None:
    value = _given(row, column, required=required)
    if value is None:
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadValue(column, "an amount like 42.50") from None
    if not amount.is_finite() or amount < 0 or amount > 10_000_000 or amount != amount.quantize(Decimal("0.01")):
        raise BadValue(column, "an amount from 0 to 10000000 with at most two decimals")
    return amount


def instant(row: dict[str, Any], column: str, *, required: bool = False) -> datetime | None:
    """An ISO datetime with its offset, or a date (midnight UTC)."""
    value = _given(row, column, required=required)
    if value is None:
        return None
    raw = str(value).strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadValue(column, "an ISO date or datetime with its offset") from None
    if parsed.tzinfo is None:
        raise BadValue(column, "a datetime needs its UTC offset")
    if not 2000 <= parsed.year <= 2099:
        raise BadValue(column, "between the years 2000 and 2099")
    return parsed.astimezone(UTC)


def day(row: dict[str, Any], column: str) -> date | None:
    value = row.get(column)
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadValue(column, "an ISO date like 1990-04-23") from None
    if parsed.year < 1900:
        raise BadValue(column, "after 1900")
    return parsed


def timezone(row: dict[str, Any], column: str = "timezone") -> str | None:
    value = text(row, column, max_length=64)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValue(column, "not a known IANA time zone (e.g. Europe/Paris)") from None
    return value
