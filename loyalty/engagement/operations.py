"""Engagement use cases: record an engagement within its action's limits; configure actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Row, String, case, func, literal, null, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from loyalty import outbox
from loyalty.dates import add_months
from loyalty.customevents.conditions import check_conditions, matches
from loyalty.customevents.models import CustomEventType
from loyalty.customevents.validation import declared_properties
from loyalty.db import UTCDateTime, dialect_insert
from loyalty.errors import Conflict, Forbidden, InvalidOperation, NotFound
from loyalty.events import EngagementRecorded
from loyalty.engagement.models import Engagement, EngagementAction
from loyalty.ledger import operations as ledger
from loyalty.members.models import Member
from loyalty.program.cache import cached, touch

#: An engagement dated further ahead than this is refused.
MAX_CLOCK_SKEW = timedelta(minutes=10)
#: How far back a service may date an engagement (a review platform catching up), like a purchase.
MAX_ENGAGEMENT_AGE = timedelta(days=365)
#: How far back a member's own app may date one: it reports what the member just did. Older, a member
#: could date reports into past days whose limits were unused, or fill the days a streak missed.
MAX_SELF_REPORT_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class ActionRules:
    """An active action's points and limits, as the process keeps them between changes."""

    key: str
    points: int
    once_per_member: bool
    max_per_period: int | None
    period: str | None
    cooldown_minutes: int | None
    self_reportable: bool
    event_type: str | None

    @classmethod
    def of(cls, action: EngagementAction) -> ActionRules:
        return cls(
            key=action.key,
            points=action.points,
            once_per_member=action.once_per_member,
            max_per_period=action.max_per_period,
            period=action.period,
            cooldown_minutes=action.cooldown_minutes,
            self_reportable=action.self_reportable,
            event_type=action.event_type,
        )


@dataclass(frozen=True)
class EngagementResult:
    engagement: Engagement
    #: False when the same ``(member, action, ref)`` was recorded before: the original answer again.
    created: bool


def record_engagement(
    session: Session,
    *,
    member_id: int,
    action_key: str,
    ref: str,
    occurred_at: datetime,
    now: datetime,
    reported_by_member: bool = False,
) -> EngagementResult:
    """Record that a member did something that earns points, once per ``(member, action, ref)``.

    Over one of the action's limits (once per member, N per day/week/month in the member's time zone,
    a cooldown) the engagement is recorded with 0 points and the reason: it is not an error. The member's
    row is locked first, so concurrent reports of one member are counted against the limits one at a
    time. Records ``EngagementRecorded`` and, when points are awarded, ``PointsEarned``.
    """
    action = _active_action(session, action_key)
    if action is None:
        raise InvalidOperation(f"no active engagement action is called {action_key!r}", field="action")
    if action.event_type is not None:
        raise InvalidOperation(f"{action_key!r} is awarded by the custom event {action.event_type!r}", field="action")
    if reported_by_member and not action.self_reportable:
        raise Forbidden(f"a member cannot report {action_key!r} themselves", field="action")
    if reported_by_member and occurred_at < now - MAX_SELF_REPORT_AGE:
        raise InvalidOperation("a member reports an engagement within an hour of it", field="occurred_at")
    if occurred_at < now - MAX_ENGAGEMENT_AGE:
        raise InvalidOperation("an engagement cannot be more than a year old", field="occurred_at")
    return _record(session, action, member_id=member_id, ref=ref, occurred_at=occurred_at, now=now)


def record_if_defined(session: Session, *, member_id: int, action_key: str, ref: str, now: datetime) -> None:
    """Record a built-in engagement (account creation, profile completion) if the program defines it."""
    action = _active_action(session, action_key)
    if action is not None:
        _record(session, action, member_id=member_id, ref=ref, occurred_at=now, now=now)


def record_for_custom_event(
    session: Session,
    *,
    event_type: str,
    properties: dict[str, Any],
    member_id: int,
    ref: str,
    occurred_at: datetime,
    now: datetime,
) -> int:
    """Record the engagements of the active actions bound to ``event_type`` whose conditions
    ``properties`` meet, within their limits; returns the points they awarded."""
    actions = session.scalars(
        select(EngagementAction)
        .where(EngagementAction.event_type == event_type, EngagementAction.is_active.is_(True))
        .order_by(EngagementAction.key)
    )
    points = 0
    for action in list(actions):
        if matches(action.conditions or [], properties):
            result = _record(session, ActionRules.of(action), member_id=member_id, ref=ref, occurred_at=occurred_at, now=now)
            points += result.engagement.points_awarded
    return points


def _active_action(session: Session, action_key: str) -> ActionRules | None:
    return cached(session, "engagement_actions", _read_active_actions).get(action_key)


def _read_active_actions(session: Session) -> dict[str, ActionRules]:
    actions = session.scalars(select(EngagementAction).where(EngagementAction.is_active.is_(True)))
    return {action.key: ActionRules.of(action) for action in actions}


def _record(
    session: Session, action: ActionRules, *, member_id: int, ref: str, occurred_at: datetime, now: datetime
) -> EngagementResult:
    """Credit the member, insert the engagement with the outcome its limits give, and post the
    ledger entry; an engagement over a limit (or recorded before) gives the points back.

    The credit comes first because it locks the member's row (as a purchase's does), so the limits are
    counted, in the insert's own statement, once every concurrent report of the member is committed.
    """
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise InvalidOperation("an engagement cannot be in the future", field="occurred_at")
    credited = _credit(session, member_id, action.points)
    limits = _reason_over_limit(action, member_id, occurred_at, credited.timezone)
    recorded = session.scalars(_insert_engagement(session, action, member_id, ref, occurred_at, now, limits)).one_or_none()
    awarded = recorded is not None and recorded.outcome == "awarded"
    if action.points and not awarded:
        ledger.move_balance(session, Member.id == member_id, -action.points, qualifying=True)
    if recorded is None:
        existing = session.scalars(
            select(Engagement).where(
                Engagement.member_id == member_id, Engagement.action_key == action.key, Engagement.ref == ref
            )
        ).one()
        return EngagementResult(engagement=existing, created=False)
    if awarded and action.points:
        ledger.append_entry(
            session, credited, member_id=member_id, points=action.points, kind="bonus",
            reason=f"engagement {action.key}", now=now, source=("engagement", str(recorded.id)), qualifying=True,
        )  # fmt: skip
    outbox.record(
        session,
        EngagementRecorded(
            occurred_at=now, member_id=member_id, action=action.key, ref=ref, points=recorded.points_awarded,
            awarded=awarded,
        ),
    )
    return EngagementResult(engagement=recorded, created=True)


def _credit(session: Session, member_id: int, points: int) -> Row[Any]:
    """Move the member's balance by the action's ``points`` (none: only lock the row), locking it; the
    row after it, with the member's time zone."""
    row: Row[Any] | None
    if points:
        row = ledger.move_balance(session, Member.id == member_id, points, qualifying=True, returning=("timezone",))
    else:
        # FOR NO KEY UPDATE, as the balance update takes: a purchase holding the member's key-share lock
        # (its rows' foreign key) and waiting to update the balance would deadlock with a FOR UPDATE here.
        columns: list[Any] = [Member.points_balance, Member.lifetime_points, Member.tier_code, Member.timezone]
        row = session.execute(
            select(*columns).where(Member.id == member_id).with_for_update(key_share=True)
        ).one_or_none()
    if row is None:
        raise InvalidOperation(f"no member has the id {member_id}", field="member_id")
    return row


def _insert_engagement(
    session: Session,
    action: ActionRules,
    member_id: int,
    ref: str,
    occurred_at: datetime,
    now: datetime,
    reason: ColumnElement[str | None],
) -> ReturningInsert[Engagement]:
    """``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``: the engagement with its outcome, its
    points and the ``reason`` it earns nothing (NULL when it earns them); no row when recorded before."""
    decided = select(reason.label("reason")).subquery("decided")
    over = decided.c.reason.is_not(None)
    values = select(
        literal(member_id, BigInteger),
        literal(action.key, String),
        literal(ref, String),
        literal(occurred_at, UTCDateTime()),
        literal(now, UTCDateTime()),
        case((over, 0), else_=literal(action.points, BigInteger)),
        case((over, "limit_reached"), else_="awarded"),
        decided.c.reason,
    ).where(true())  # SQLite reads ``ON CONFLICT`` after a SELECT without WHERE as a join's ``ON``
    columns = ["member_id", "action_key", "ref", "occurred_at", "recorded_at", "points_awarded", "outcome", "reason"]
    return (
        dialect_insert(session)(Engagement)
        .from_select(columns, values)
        .on_conflict_do_nothing(index_elements=["member_id", "action_key", "ref"])
        .returning(Engagement)
    )


def member_engagements(session: Session, member_id: int, *, limit: int = 100) -> list[Engagement]:
    return list(
        session.scalars(
            select(Engagement).where(Engagement.member_id == member_id).order_by(Engagement.id.desc()).limit(limit)
        )
    )


def list_actions(session: Session) -> list[EngagementAction]:
    return list(session.scalars(select(EngagementAction).order_by(EngagementAction.key)))


def save_action(session: Session, fields: dict[str, Any], *, key: str | None = None) -> EngagementAction:
    """Create an action, or change the one with ``key``."""
    if key is None:
        if session.scalar(select(EngagementAction.id).where(EngagementAction.key == fields["key"])) is not None:
            raise Conflict(f"an action called {fields['key']!r} exists already", field="key")
        action = EngagementAction(once_per_member=False, self_reportable=False, is_active=True)
    else:
        found = session.scalar(select(EngagementAction).where(EngagementAction.key == key))
        if found is None:
            raise NotFound(f"no engagement action is called {key!r}", field="key")
        action = found
    for name, value in fields.items():
        setattr(action, name, value)
    if (action.max_per_period is None) != (action.period is None):
        raise InvalidOperation("a limit per period needs both max_per_period and period", field="period")
    _check_binding(session, action)
    session.add(action)
    session.flush()
    touch(session)
    return action


def _check_binding(session: Session, action: EngagementAction) -> None:
    """An action bound to a custom event names an existing type, and conditions on its properties."""
    if action.event_type is None:
        if action.conditions:
            raise InvalidOperation("conditions apply to an action bound to a custom event", field="conditions")
        action.conditions = None
        return
    schema = session.scalar(select(CustomEventType.json_schema).where(CustomEventType.key == action.event_type))
    if schema is None:
        raise InvalidOperation(f"no event type is called {action.event_type!r}", field="event_type")
    check_conditions(action.conditions or [], declared_properties(schema))


def period_bounds(moment: datetime, period: str, timezone: str) -> tuple[datetime, datetime]:
    """The calendar day, ISO week (from Monday) or month around ``moment``, in ``timezone``, as UTC."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start -= timedelta(days=start.weekday())
    elif period == "month":
        start = start.replace(day=1)
    if period == "month":
        end = add_months(start, 1)
    else:
        end = start + timedelta(days=7 if period == "week" else 1)
    # Aware datetimes add wall-clock time in their own zone: a DST change inside the period is respected.
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _reason_over_limit(action: ActionRules, member_id: int, occurred_at: datetime, timezone: str) -> ColumnElement[str | None]:
    """Why an engagement at ``occurred_at`` earns nothing, as SQL counting the member's awarded ones;
    NULL when it earns its points."""
    awarded = select(func.count()).select_from(Engagement).where(
        Engagement.member_id == member_id,
        Engagement.action_key == action.key,
        Engagement.outcome == "awarded",
    )
    reasons: list[tuple[ColumnElement[bool], str]] = []
    if action.once_per_member:
        reasons.append((awarded.scalar_subquery() > 0, "awarded once per member, already awarded"))
    if action.max_per_period and action.period:
        start, end = period_bounds(occurred_at, action.period, timezone)
        in_period = awarded.where(Engagement.occurred_at >= start, Engagement.occurred_at < end)
        reasons.append(
            (in_period.scalar_subquery() >= action.max_per_period, f"at most {action.max_per_period} per {action.period}, already reached")
        )
    if action.cooldown_minutes:
        window = timedelta(minutes=action.cooldown_minutes)
        recent = awarded.where(Engagement.occurred_at > occurred_at - window, Engagement.occurred_at < occurred_at + window)
        reasons.append((recent.scalar_subquery() > 0, f"at most once every {action.cooldown_minutes} minutes"))
    if not reasons:
        return null().cast(String)
    return case(*((condition, literal(reason, String)) for condition, reason in reasons), else_=null())
