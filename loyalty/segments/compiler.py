"""A segment's definition compiled to one SQL condition on ``members`` (SQLAlchemy Core).

A definition is a tree: ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``, or one condition
(``{"tier": ["gold"]}``, ``{"purchases": {"within_days": 90, "count": {"gte": 3}}}``; the list is in
docs/integrations.md). Conditions on the member's row compare its columns; conditions on history are
``EXISTS`` a row of ``(SELECT member_id … GROUP BY member_id HAVING …)`` for the member, or, when a member
with no history qualifies too (``count < 2``), ``NOT EXISTS`` one of those whose history fails: the database evaluates the
whole tree as one set-based statement, and no Python loop ever walks the members. Purchases and
categories are read from the per-member summary kept after commit (:mod:`loyalty.segments.history`),
purchases over the common windows from one row per member (:mod:`loyalty.segments.windows`).

Compiling also validates: a faulty definition raises ``InvalidOperation`` naming the path of the
failing part (``definition.all.1.purchases.count``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation as BadDecimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, CompoundSelect, Integer, Select, and_, exists, func, literal, not_, or_, select, type_coerce, union_all
from sqlalchemy.orm import InstrumentedAttribute

from loyalty.customevents.models import CustomEvent
from loyalty.engagement.models import ENGAGEMENT_LEVELS, EngagementScore
from loyalty.errors import InvalidOperation
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.receipts.models import Purchase
from loyalty.segments.history import month_start, next_month
from loyalty.segments.models import MemberCategory, MemberPurchaseMonth, MemberPurchaseWindow
from loyalty.segments.windows import WINDOWS

#: How deep all/any/not may nest.
MAX_DEPTH = 8
MAX_DAYS = 3650
#: How far a window's start may be from a rolling window's for the rolling figures to be read (and
#: corrected by the purchases in between); farther, the monthly summary is read.
MAX_CORRECTION = timedelta(days=31)
RANGE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
    "eq": operator.eq,
}
CONSENT_COLUMNS = {
    "email": Member.consent_email, "sms": Member.consent_sms, "push": Member.consent_push, "postal": Member.consent_postal,
}  # fmt: skip


@dataclass(frozen=True)
class Context:
    """What relative conditions are measured from."""

    now: datetime
    #: The start of the program's tier window: qualifying points are those earned after it.
    qualifying_since: datetime
    #: What the members' rolling purchase windows are counted from (``None``: not counted yet, the
    #: monthly summary is read instead).
    windows_as_of: datetime | None = None


Builder = Callable[[Any, str, Context], ColumnElement[bool]]

#: Conditions contributed by other packages (``badge``, from ``rewards``): name → builder.
_registered: dict[str, Builder] = {}


def register_condition(name: str, builder: Builder) -> None:
    """Add a condition on data this package does not know (badges held)."""
    _registered[name] = builder


def compile_definition(definition: Any, context: Context) -> ColumnElement[bool]:
    """The condition on ``members`` that selects the segment's members."""
    return _node(definition, "definition", context, 0)


def _node(value: Any, path: str, context: Context, depth: int) -> ColumnElement[bool]:
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidOperation("an object with one condition, or all, any or not", field=path)
    ((name, argument),) = value.items()
    at = f"{path}.{name}"
    if depth >= MAX_DEPTH:
        raise InvalidOperation(f"at most {MAX_DEPTH} levels of all, any and not", field=at)
    if name in ("all", "any"):
        if not isinstance(argument, list) or not argument:
            raise InvalidOperation("a non-empty list of conditions", field=at)
        parts = [_node(item, f"{at}.{index}", context, depth + 1) for index, item in enumerate(argument)]
        return and_(*parts) if name == "all" else or_(*parts)
    if name == "not":
        return not_(_node(argument, at, context, depth + 1))
    builder = CONDITIONS.get(name) or _registered.get(name)
    if builder is None:
        raise InvalidOperation(f"unknown condition {name!r}", field=at)
    return builder(argument, at, context)


# -- Values ----------------------------------------------------------------------------------------


def _strings(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise InvalidOperation("a non-empty list of strings", field=path)
    return value


def _days(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise InvalidOperation(f"a number of days from 1 to {MAX_DAYS}", field=path)
    return value


def _instant(value: Any, path: str) -> datetime:
    """An ISO date (midnight UTC) or an ISO datetime with its offset."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidOperation("an ISO date or datetime", field=path)
    if parsed.tzinfo is None:
        if len(value) > 10:
            raise InvalidOperation("a datetime with its UTC offset", field=path)
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    return parsed.astimezone(UTC)


def _range(value: Any, path: str, *, money: bool = False) -> dict[str, int]:
    """``{"gte": 100, "lt": 500}``; amounts of money (``"100.00"``) become cents."""
    if not isinstance(value, dict) or not value or set(value) - set(RANGE_OPERATORS):
        raise InvalidOperation(f"an object of {', '.join(RANGE_OPERATORS)}", field=path)
    bounds: dict[str, int] = {}
    for name, bound in value.items():
        if money:
            bounds[name] = _cents(bound, f"{path}.{name}")
        elif isinstance(bound, bool) or not isinstance(bound, int):
            raise InvalidOperation("a whole number", field=f"{path}.{name}")
        else:
            bounds[name] = bound
    return bounds


def _cents(amount: Any, path: str) -> int:
    """``"100.50"`` (or a number) as cents: money is stored in cents."""
    try:
        cents = Decimal(str(amount)) * 100
    except BadDecimal:
        raise InvalidOperation("an amount with at most two decimals", field=path) from None
    if isinstance(amount, bool) or not cents.is_finite() or cents != cents.to_integral_value():
        raise InvalidOperation("an amount with at most two decimals", field=path)
    return int(cents)


def _within(column: Any, bounds: dict[str, int]) -> ColumnElement[bool]:
    return and_(*(RANGE_OPERATORS[name](column, bound) for name, bound in bounds.items()))


def _holds_for_zero(bounds: dict[str, int]) -> bool:
    return all(RANGE_OPERATORS[name](0, bound) for name, bound in bounds.items())


def _object(value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise InvalidOperation(f"an object of {', '.join(sorted(allowed))}", field=path)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidOperation(f"unknown option {unknown[0]!r}", field=f"{path}.{unknown[0]}")
    return value


def _since(options: dict[str, Any], path: str, context: Context) -> datetime | None:
    if "within_days" not in options:
        return None
    return context.now - timedelta(days=_days(options["within_days"], f"{path}.within_days"))


# -- History: aggregates per member ----------------------------------------------------------------


def _aggregated(
    member_id: Any, where: list[ColumnElement[bool]], measures: list[tuple[Any, dict[str, int]]]
) -> ColumnElement[bool]:
    """Members whose history (rows ``where``) meets every ``(aggregate, bounds)``; members without
    such history count as zero."""
    return _grouped(select(member_id).where(member_id.is_not(None), *where).group_by(member_id), measures)


def _grouped(grouped: Select[Any], measures: list[tuple[Any, dict[str, int]]]) -> ColumnElement[bool]:
    """Members of the ``grouped`` rows meeting every measure (or, when zero meets them too, not failing one)."""
    having = and_(*(_within(aggregate, bounds) for aggregate, bounds in measures))
    if all(_holds_for_zero(bounds) for _, bounds in measures):
        return not_(_among(grouped.having(not_(having))))
    return _among(grouped.having(having))


def _among(grouped: Select[Any] | CompoundSelect) -> ColumnElement[bool]:
    """``EXISTS (SELECT 1 FROM (grouped) WHERE member_id = members.id)``: PostgreSQL joins the
    grouped rows to the members (a merge or hash (anti) join, the member's id pushed into the
    grouping when one member is asked about) where ``IN`` probed a hashed sub-plan per member."""
    rows = grouped.subquery("grouped")
    return exists(select(literal(1)).select_from(rows).where(list(rows.c)[0] == Member.id))


def _purchases(value: Any, path: str, context: Context) -> ColumnElement[bool]:
    """``{"within_days": 90, "count": {"gte": 3}, "spend": {"gte": "100.00"}}``: spend net of returns.

    A window starting within :data:`MAX_CORRECTION` of one of the members' rolling windows
    (:mod:`loyalty.segments.windows`) reads their one row each, corrected by the purchases between the
    two starts. Any other window (or all history) is read from the per-member monthly summary for its
    whole months, and from ``purchases`` for its first, partial month only
    (``ix_purchases_occurred_at``). Both are exact for any window.
    """
    options = _object(value, path, {"within_days", "count", "spend"})
    wanted: list[str] = [name for name in ("count", "spend") if name in options]
    if not wanted:
        raise InvalidOperation("a count or a spend", field=path)
    since = _since(options, path, context)
    measures = {name: _range(options[name], f"{path}.{name}", money=name == "spend") for name in wanted}
    as_of = context.windows_as_of
    if since is not None and as_of is not None and (days := _closest_window(since, as_of)) is not None:
        return _rolled(days, since, as_of, measures)
    months = select(
        MemberPurchaseMonth.member_id.label("member_id"),
        MemberPurchaseMonth.purchases.label("purchases"),
        type_coerce(MemberPurchaseMonth.spend, BigInteger).label("spend"),
    )
    history: Any = months
    if since is not None:
        whole_months_from = since if month_start(since) == since else next_month(month_start(since))
        first_month = select(
            Purchase.member_id, literal(1, Integer), _net_cents()
        ).where(Purchase.member_id.is_not(None), Purchase.occurred_at >= since, Purchase.occurred_at < whole_months_from)
        history = union_all(months.where(MemberPurchaseMonth.month >= whole_months_from), first_month)
    rows = history.subquery("history")
    aggregates = {"count": func.sum(rows.c.purchases), "spend": func.sum(rows.c.spend)}
    return _grouped(select(rows.c.member_id).group_by(rows.c.member_id), [(aggregates[name], bounds) for name, bounds in measures.items()])


def _net_cents() -> ColumnElement[int]:
    """A purchase's spend net of its returns, in cents."""
    return type_coerce(Purchase.total, BigInteger) - type_coerce(Purchase.returned_amount, BigInteger)


def _closest_window(since: datetime, as_of: datetime) -> int | None:
    """The rolling window (in days) whose start is nearest ``since``, if within :data:`MAX_CORRECTION`."""
    days = min(WINDOWS, key=lambda days: abs(since - (as_of - timedelta(days=days))))
    return days if abs(since - (as_of - timedelta(days=days))) <= MAX_CORRECTION else None


def _rolled(days: int, since: datetime, as_of: datetime, measures: dict[str, dict[str, int]]) -> ColumnElement[bool]:
    """The members whose rolling ``days`` figures, corrected by the purchases between the window's
    start and ``since`` (added when ``since`` is earlier, taken off when later), meet ``measures``.

    Members with no purchase between the two starts are read from their row alone (a comparison on
    it); only the few others are grouped with their corrections."""
    count, spend = WINDOWS[days]
    start = as_of - timedelta(days=days)
    sign = 1 if since < start else -1
    between = [Purchase.member_id.is_not(None), Purchase.occurred_at >= min(since, start), Purchase.occurred_at < max(since, start)]
    moved = select(Purchase.member_id).where(*between)
    own = select(MemberPurchaseWindow.member_id, count.label("purchases"), type_coerce(spend, BigInteger).label("spend"))
    corrections = select(Purchase.member_id, literal(sign, Integer), literal(sign, BigInteger) * _net_cents()).where(*between)
    history = union_all(own.where(MemberPurchaseWindow.member_id.in_(moved)), corrections).subquery("history")
    sums = {"count": func.sum(history.c.purchases), "spend": func.sum(history.c.spend)}
    figures: dict[str, Any] = {"count": count, "spend": type_coerce(spend, BigInteger)}
    row_meets = and_(*(_within(figures[name], bounds) for name, bounds in measures.items()))
    sums_meet = and_(*(_within(sums[name], bounds) for name, bounds in measures.items()))
    unmoved = select(MemberPurchaseWindow.member_id).where(MemberPurchaseWindow.member_id.not_in(moved))
    corrected = select(history.c.member_id).group_by(history.c.member_id)
    if all(_holds_for_zero(bounds) for bounds in measures.values()):
        return not_(_among(union_all(unmoved.where(not_(row_meets)), corrected.having(not_(sums_meet)))))
    return _among(union_all(unmoved.where(row_meets), corrected.having(sums_meet)))


def _categories(value: Any, path: str, context: Context) -> ColumnElement[bool]:
    """``{"any_of": ["shoes"], "within_days": 365}``: bought a line in one of the categories (the
    per-member summary of the last purchase in each category)."""
    options = _object(value, path, {"any_of", "within_days"})
    categories = _strings(options.get("any_of"), f"{path}.any_of")
    since = _since(options, path, context)
    bought = select(MemberCategory.member_id).where(MemberCategory.category.in_(categories))
    if since is not None:
        bought = bought.where(MemberCategory.last_bought_at >= since)
    return Member.id.in_(bought)


def _custom_event(value: Any, path: str, context: Context) -> ColumnElement[bool]:
    """``{"type": "store_event_attended", "within_days": 30, "count": {"gte": 2}}`` (count: at least one)."""
    options = _object(value, path, {"type", "within_days", "count"})
    event_type = options.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidOperation("an event type", field=f"{path}.type")
    bounds = _range(options.get("count", {"gte": 1}), f"{path}.count")
    since = _since(options, path, context)
    where = [CustomEvent.event_type == event_type]
    if since is not None:
        where.append(CustomEvent.occurred_at >= since)
    return _aggregated(CustomEvent.member_id, where, [(func.count(CustomEvent.id), bounds)])


def _qualifying_points(value: Any, path: str, context: Context) -> ColumnElement[bool]:
    """Qualifying points over the program's tier window, as the tier review counts them."""
    bounds = _range(value, path)
    where = [LedgerEntry.is_qualifying.is_(True), LedgerEntry.created_at > context.qualifying_since]
    return _aggregated(LedgerEntry.member_id, where, [(func.sum(LedgerEntry.points), bounds)])


def _engagement_level(value: Any, path: str, context: Context) -> ColumnElement[bool]:
    levels = _strings(value, path)
    unknown = sorted(set(levels) - set(ENGAGEMENT_LEVELS))
    if unknown:
        raise InvalidOperation(f"unknown level {unknown[0]!r}", field=path)
    return Member.id.in_(select(EngagementScore.member_id).where(EngagementScore.level.in_(levels)))


# -- The member's own row --------------------------------------------------------------------------


def _in_list(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> Builder:
    return lambda value, path, context: column.in_(_strings(value, path))


def _number(column: InstrumentedAttribute[int]) -> Builder:
    return lambda value, path, context: _within(column, _range(value, path))


def _dated(column: InstrumentedAttribute[Any], *, nullable: bool) -> Builder:
    """``{"after": "2026-01-01", "before": …, "within_days": 30, "not_within_days": 90}``; on a column
    that may be empty (the last purchase), ``"never"`` and ``not_within_days`` select the empty ones."""

    def build(value: Any, path: str, context: Context) -> ColumnElement[bool]:
        if nullable and value == "never":
            return column.is_(None)
        options = _object(value, path, {"after", "before", "within_days", "not_within_days"})
        parts: list[ColumnElement[bool]] = []
        if "after" in options:
            parts.append(column >= _instant(options["after"], f"{path}.after"))
        if "before" in options:
            parts.append(column < _instant(options["before"], f"{path}.before"))
        if "within_days" in options:
            parts.append(column >= context.now - timedelta(days=_days(options["within_days"], f"{path}.within_days")))
        if "not_within_days" in options:
            older = column < context.now - timedelta(days=_days(options["not_within_days"], f"{path}.not_within_days"))
            parts.append(or_(older, column.is_(None)) if nullable else older)
        return and_(*parts)

    return build


def _consent(value: Any, path: str, context: Context) -> ColumnElement[bool]:
    """``{"email": true, "sms": false}``."""
    options = _object(value, path, set(CONSENT_COLUMNS))
    parts = []
    for channel, wanted in options.items():
        if not isinstance(wanted, bool):
            raise InvalidOperation("true or false", field=f"{path}.{channel}")
        parts.append(CONSENT_COLUMNS[channel].is_(wanted))
    return and_(*parts)


CONDITIONS: dict[str, Builder] = {
    "tier": _in_list(Member.tier_code),
    "timezone": _in_list(Member.timezone),
    "country": _in_list(Member.address_country),
    "balance": _number(Member.points_balance),
    "lifetime_points": _number(Member.lifetime_points),
    "qualifying_points": _qualifying_points,
    "engagement_level": _engagement_level,
    "enrolled": _dated(Member.enrolled_at, nullable=False),
    "last_purchase": _dated(Member.last_purchase_at, nullable=True),
    "purchases": _purchases,
    "categories": _categories,
    "consent": _consent,
    "custom_event": _custom_event,
}
