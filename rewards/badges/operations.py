"""Badge use cases: move member metrics and award the levels they reach, read a member's badges,
configure badges.

A metric moves in one statement (``INSERT … ON CONFLICT DO UPDATE SET value = value + 1 … RETURNING``)
in the transaction of the event that moves it. The levels its new value reaches are then inserted
with ``ON CONFLICT DO NOTHING RETURNING``: the unique key ``(member, badge, level)`` decides which
are new, so a level is awarded once however many events reach it at the same time, and only the
new ones fire ``BadgeAwarded`` and credit their points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.customevents.models import CustomEventType
from loyalty.db import dialect_insert, one_of, table_of, upsert_many
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.i18n import Translations
from loyalty.ledger import operations as ledger
from loyalty.program.cache import cached, touch
from loyalty.tiers.operations import load_ladder
from rewards.badges.metrics import METRICS
from rewards.badges.models import Badge, BadgeLevel, MemberBadge, MemberMetric
from rewards.challenges.models import Challenge
from rewards.events import BadgeAwarded
from rewards.streaks.models import Streak

#: A metric and its qualifier (``""`` for none): the key of a member's figure.
MetricKey = tuple[str, str]


@dataclass(frozen=True)
class LevelView:
    rank: int
    name: str | None
    target: int
    points: int


@dataclass(frozen=True)
class BadgeView:
    """A badge as read from the configuration (a plain value, shared between requests)."""

    id: int
    code: str
    name: str
    description: str
    image_url: str | None
    is_hidden: bool
    is_active: bool
    metric: str
    qualifier: str | None
    levels: tuple[LevelView, ...]
    #: The name and description in other languages (:mod:`loyalty.i18n`).
    translations: Translations = field(default_factory=dict)

    @property
    def key(self) -> MetricKey:
        return (self.metric, self.qualifier or "")


@dataclass(frozen=True)
class EarnedLevel:
    rank: int
    name: str | None
    awarded_at: datetime


@dataclass(frozen=True)
class BadgeStanding:
    """Where a member stands on a badge: the levels earned and the figure towards the next one."""

    badge: BadgeView
    earned: tuple[EarnedLevel, ...]
    current: int

    @property
    def highest(self) -> EarnedLevel | None:
        """The highest level earned."""
        return self.earned[-1] if self.earned else None

    @property
    def next_level(self) -> LevelView | None:
        held = {level.rank for level in self.earned}
        return next((level for level in self.badge.levels if level.rank not in held), None)

    @property
    def percentage(self) -> int:
        """Of the next level's target, 0 to 100 (100 when every level is earned)."""
        level = self.next_level
        if level is None:
            return 100
        return min(100, self.current * 100 // level.target)


def all_badges(session: Session) -> tuple[BadgeView, ...]:
    """Every badge, active or not, from the process-wide copy of the configuration."""
    return cached(session, "badges", _read_badges)


def _read_badges(session: Session) -> tuple[BadgeView, ...]:
    return tuple(
        BadgeView(
            id=badge.id,
            code=badge.code,
            name=badge.name,
            description=badge.description,
            image_url=badge.image_url,
            is_hidden=badge.is_hidden,
            is_active=badge.is_active,
            metric=badge.metric,
            qualifier=badge.qualifier,
            levels=tuple(LevelView(level.rank, level.name, level.target, level.points) for level in badge.levels),
            translations=badge.translations,
        )
        for badge in session.scalars(select(Badge).order_by(Badge.code))
    )


# -- Moving metrics and awarding ----------------------------------------------------------------------


def count(session: Session, member_id: int, keys: Iterable[MetricKey], *, now: datetime) -> None:
    """Add one to each of the member's figures named by ``keys`` and award the levels they reach."""
    _move(session, member_id, {key: 1 for key in keys}, now=now, high_water=False)


def raise_to(session: Session, member_id: int, figures: dict[MetricKey, int], *, now: datetime) -> None:
    """Lift high-water figures to the values given (they never go down) and award the levels they reach."""
    _move(session, member_id, figures, now=now, high_water=True)


def _move(session: Session, member_id: int, changes: dict[MetricKey, int], *, now: datetime, high_water: bool) -> None:
    if not changes:
        return
    params = [
        {"member_id": member_id, "metric": metric, "qualifier": qualifier, "value": value, "updated_at": now}
        for (metric, qualifier), value in changes.items()
    ]
    # One figure (most events move one) is a plain execution, not a batch: half the CPU.
    rows = session.execute(_metric_upsert(dialect_insert(session), high_water), params[0] if len(params) == 1 else params)
    values = {(row.metric, row.qualifier): row.value for row in rows}
    reached = [
        (badge, level)
        for badge in all_badges(session)
        if badge.is_active and badge.key in values
        for level in badge.levels
        if level.target <= values[badge.key]
    ]
    _award(session, member_id, reached, now=now)


class MetricsBatch:
    """The badge figures of a batch of events, moved in memory in the events' order and written at the
    end, one upsert per kind of move (the ``gamification`` consumer, :mod:`rewards.gamification`).

    Loads the figures and the levels held of the batch's members (two queries); a move awards the
    levels its new value reaches that the member does not hold, right away, as :func:`count` and
    :func:`raise_to` do (the insert of a level still decides, ``ON CONFLICT DO NOTHING``). The batch
    must be the only writer of its members' figures until :meth:`write` (the consumer's cursor lock
    makes it so): counts are written as increments and high-water figures as lifts, so the writes are
    right whatever the figures were.
    """

    def __init__(self, session: Session, member_ids: Iterable[int]) -> None:
        self.session = session
        members = sorted(set(member_ids))
        self.values: dict[tuple[int, str, str], int] = {}
        self.held: set[tuple[int, int, int]] = set()
        if members:
            figures = select(MemberMetric.member_id, MemberMetric.metric, MemberMetric.qualifier, MemberMetric.value)
            for member_id, metric, qualifier, value in session.execute(figures.where(one_of(session, MemberMetric.member_id, members))):
                self.values[(member_id, metric, qualifier)] = value
            held = select(MemberBadge.member_id, MemberBadge.badge_id, MemberBadge.level)
            held = held.where(one_of(session, MemberBadge.member_id, members))
            self.held = {tuple(row) for row in session.execute(held)}  # type: ignore[misc]
        #: What :meth:`write` writes: the increments and the lifts, with the instant of the last move.
        self.added: dict[tuple[int, str, str], tuple[int, datetime]] = {}
        self.lifted: dict[tuple[int, str, str], tuple[int, datetime]] = {}

    def count(self, member_id: int, keys: Iterable[MetricKey], *, now: datetime) -> None:
        """As :func:`count`."""
        changed = {}
        for metric, qualifier in dict.fromkeys(keys):
            key = (member_id, metric, qualifier)
            self.values[key] = changed[(metric, qualifier)] = self.values.get(key, 0) + 1
            self.added[key] = (self.added.get(key, (0, now))[0] + 1, now)
        self._award_reached(member_id, changed, now)

    def raise_to(self, member_id: int, figures: dict[MetricKey, int], *, now: datetime) -> None:
        """As :func:`raise_to`: a figure that does not rise changes nothing and awards nothing."""
        changed = {}
        for (metric, qualifier), value in figures.items():
            key = (member_id, metric, qualifier)
            if key not in self.values or self.values[key] < value:
                self.values[key] = changed[(metric, qualifier)] = value
                self.lifted[key] = (value, now)
        self._award_reached(member_id, changed, now)

    def _award_reached(self, member_id: int, changed: dict[MetricKey, int], now: datetime) -> None:
        reached = [
            (badge, level)
            for badge in all_badges(self.session)
            if badge.is_active and badge.key in changed
            for level in badge.levels
            if level.target <= changed[badge.key] and (member_id, badge.id, level.rank) not in self.held
        ]
        self.held.update((member_id, badge.id, level.rank) for badge, level in reached)
        _award(self.session, member_id, reached, now=now)

    def write(self) -> None:
        """The batch's moves: one upsert adding the counts, one lifting the high-water figures."""
        table = table_of(MemberMetric)
        for moves, conflict in ((self.added, _add_to_figures), (self.lifted, _lift_figures)):
            rows = [
                {"member_id": member_id, "metric": metric, "qualifier": qualifier, "value": value, "updated_at": at}
                for (member_id, metric, qualifier), (value, at) in moves.items()
            ]
            upsert_many(self.session, table, rows, conflict=conflict)
        self.added, self.lifted = {}, {}


@cache
def _metric_upsert(insert: Callable[[Table], Any], high_water: bool) -> Any:
    """:func:`_on_metric_conflict` on an insert of the values given when it runs, returning the
    figures it wrote; built once per database."""
    table = table_of(MemberMetric)
    return _on_metric_conflict(insert(table), high_water).returning(table.c.metric, table.c.qualifier, table.c.value)


def _add_to_figures(stmt: Any) -> Any:
    return _on_metric_conflict(stmt, False)


def _lift_figures(stmt: Any) -> Any:
    return _on_metric_conflict(stmt, True)


def _on_metric_conflict(stmt: Any, high_water: bool) -> Any:
    """An insert of figures made ``INSERT … ON CONFLICT DO UPDATE`` adding to a figure, or lifting it
    to a higher value."""
    table = table_of(MemberMetric)
    key = ["member_id", "metric", "qualifier"]
    if high_water:
        return stmt.on_conflict_do_update(
            index_elements=key,
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
            where=table.c.value < stmt.excluded.value,
        )
    return stmt.on_conflict_do_update(
        index_elements=key,
        set_={"value": table.c.value + stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )


def award_badge(session: Session, *, member_id: int, badge_code: str, now: datetime) -> None:
    """Give a member the first level of a badge (a challenge's reward); nothing if they hold it."""
    badge = next((badge for badge in all_badges(session) if badge.code == badge_code), None)
    if badge is not None and badge.is_active:
        _award(session, member_id, [(badge, badge.levels[0])], now=now)


def _award(session: Session, member_id: int, levels: Sequence[tuple[BadgeView, LevelView]], *, now: datetime) -> None:
    """Insert the levels the member does not hold yet; credit and announce the new ones."""
    if not levels:
        return
    table = table_of(MemberBadge)
    stmt = (
        dialect_insert(session)(table)
        .values(
            [
                {"member_id": member_id, "badge_id": badge.id, "level": level.rank, "awarded_at": now}
                for badge, level in levels
            ]
        )
        .on_conflict_do_nothing(index_elements=["member_id", "badge_id", "level"])
        .returning(table.c.id, table.c.badge_id, table.c.level)
    )
    by_key = {(badge.id, level.rank): (badge, level) for badge, level in levels}
    for award_id, badge_id, rank in sorted(session.execute(stmt).all(), key=lambda row: (row.badge_id, row.level)):
        badge, level = by_key[(badge_id, rank)]
        if level.points:
            ledger.post(
                session,
                member_id=member_id,
                points=level.points,
                kind="bonus",
                reason=f"badge {badge.code}" + (f" {level.name}" if level.name else ""),
                now=now,
                source=("badge", str(award_id)),
            )
        outbox.record(
            session,
            BadgeAwarded(
                occurred_at=now,
                member_id=member_id,
                badge_code=badge.code,
                badge_name=badge.name,
                level=level.rank,
                level_name=level.name,
                points=level.points,
            ),
        )


# -- Reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberBadges:
    #: The badges with a level earned, the latest earned first.
    earned: list[BadgeStanding]
    #: The badges with a level still to earn.
    in_progress: list[BadgeStanding]


def member_badges(session: Session, member_id: int) -> MemberBadges:
    """The member's standing on each active badge, and on the badges they earned (hidden ones only
    once earned); two queries: their awards and their figures."""
    awards: dict[int, list[EarnedLevel]] = {}
    badges = {badge.id: badge for badge in all_badges(session)}
    rows = session.execute(
        select(MemberBadge.badge_id, MemberBadge.level, MemberBadge.awarded_at)
        .where(MemberBadge.member_id == member_id)
        .order_by(MemberBadge.badge_id, MemberBadge.level)
    )
    for badge_id, rank, awarded_at in rows:
        level = next((level for level in badges[badge_id].levels if level.rank == rank), None)
        awards.setdefault(badge_id, []).append(EarnedLevel(rank, level.name if level else None, awarded_at))
    figures = {
        (metric, qualifier): value
        for metric, qualifier, value in session.execute(
            select(MemberMetric.metric, MemberMetric.qualifier, MemberMetric.value).where(
                MemberMetric.member_id == member_id
            )
        )
    }
    standings = [
        BadgeStanding(badge=badge, earned=tuple(awards.get(badge.id, ())), current=figures.get(badge.key, 0))
        for badge in badges.values()
        if badge.id in awards or (badge.is_active and not badge.is_hidden)
    ]
    return MemberBadges(
        earned=sorted(
            (standing for standing in standings if standing.earned),
            key=lambda standing: standing.earned[-1].awarded_at,
            reverse=True,
        ),
        in_progress=[standing for standing in standings if standing.next_level is not None],
    )


def badge_catalog(session: Session, *, member_id: int | None) -> list[BadgeView]:
    """The active badges; hidden ones only if ``member_id`` names a member who earned them."""
    earned: set[int] = set()
    if member_id is not None:
        earned = set(session.scalars(select(MemberBadge.badge_id).where(MemberBadge.member_id == member_id)))
    return [badge for badge in all_badges(session) if badge.is_active and (not badge.is_hidden or badge.id in earned)]


# -- Configuration ------------------------------------------------------------------------------------


def list_badges(session: Session) -> list[Badge]:
    return list(session.scalars(select(Badge).order_by(Badge.code)))


def get_badge(session: Session, code: str) -> Badge:
    badge = session.scalar(select(Badge).where(Badge.code == code))
    if badge is None:
        raise NotFound(f"no badge has the code {code!r}", field="code")
    return badge


def save_badge(session: Session, fields: dict[str, Any], *, code: str | None = None) -> Badge:
    """Create a badge, or change the one with ``code``. ``levels`` (``name``, ``target``, ``points``),
    or a single ``target`` and its ``points``, replace the badge's levels; their targets must rise. The
    metric's qualifier is checked: a category for ``category_purchases``, an existing tier, streak or
    challenge for the others."""
    if code is None and session.scalar(select(Badge.id).where(Badge.code == fields["code"])) is not None:
        raise Conflict(f"a badge called {fields['code']!r} exists already", field="code")
    badge = get_badge(session, code) if code is not None else Badge(description="", is_hidden=False, is_active=True)
    levels = _levels(fields)
    with session.no_autoflush:  # nothing reaches the database before it is checked
        for name, value in fields.items():
            setattr(badge, name, value)
        _check_metric(session, badge.metric, badge.qualifier)
        if levels is not None:
            _check_levels(levels)
            _replace_levels(badge, levels)
        elif not badge.levels:
            raise InvalidOperation("a badge needs a target or levels", field="levels")
    session.add(badge)
    session.flush()
    touch(session)
    return badge


def delete_badge(session: Session, code: str) -> None:
    """Remove a badge nobody has earned and no challenge gives; otherwise deactivate it."""
    badge = get_badge(session, code)
    if session.scalar(select(MemberBadge.id).where(MemberBadge.badge_id == badge.id).limit(1)) is not None:
        raise Conflict("members have earned this badge: deactivate it instead", field="code")
    if session.scalar(select(Challenge.id).where(Challenge.reward_badge_code == code).limit(1)) is not None:
        raise Conflict("a challenge gives this badge", field="code")
    session.delete(badge)
    session.flush()
    touch(session)


def counted_by_a_badge(session: Session, metric: str, qualifier: str) -> bool:
    """Whether a badge counts this streak or challenge (its metric, with ``qualifier`` its code)."""
    found = select(Badge.id).where(Badge.metric == metric, Badge.qualifier == qualifier).limit(1)
    return session.scalar(found) is not None


def _check_metric(session: Session, metric_name: str, qualifier: str | None) -> None:
    metric = METRICS.get(metric_name)
    if metric is None:
        raise InvalidOperation(f"no metric is called {metric_name!r}", field="metric")
    if qualifier is None:
        if metric.qualifier_required:
            raise InvalidOperation(f"the metric {metric_name} needs a {metric.qualifier}", field="qualifier")
        return
    if metric.qualifier is None:
        raise InvalidOperation(f"the metric {metric_name} takes no qualifier", field="qualifier")
    known = {
        "category": None,
        "tier": lambda: {tier.code for tier in load_ladder(session).tiers},
        "streak": lambda: set(session.scalars(select(Streak.code))),
        "challenge": lambda: set(session.scalars(select(Challenge.code))),
        "event_type": lambda: set(session.scalars(select(CustomEventType.key))),
    }[metric.qualifier]
    if known is not None and qualifier not in known():
        raise InvalidOperation(f"no {metric.qualifier} has the code {qualifier!r}", field="qualifier")


def _levels(fields: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The levels given, as ``levels`` or as a single ``target`` (with its ``points``), taken out of
    ``fields``; None when neither is given."""
    levels = fields.pop("levels", None)
    if "target" in fields:
        if levels is not None:
            raise InvalidOperation("give a target or levels, not both", field="target")
        return [{"name": None, "target": fields.pop("target"), "points": fields.pop("points", 0)}]
    if "points" in fields:
        raise InvalidOperation("points go with a target, or in each level", field="points")
    return levels


def _check_levels(levels: Sequence[dict[str, Any]]) -> None:
    if not levels:
        raise InvalidOperation("a badge needs at least one level", field="levels")
    names = [level.get("name") for level in levels]
    for index, level in enumerate(levels):
        if index and level["target"] <= levels[index - 1]["target"]:
            raise InvalidOperation("each level's target must be above the one before", field=f"levels.{index}.target")
        if len(levels) > 1 and not level.get("name"):
            raise InvalidOperation("the levels of a badge with several need names", field=f"levels.{index}.name")
        if level.get("name") and names.index(level["name"]) != index:
            raise InvalidOperation(f"two levels are called {level['name']!r}", field=f"levels.{index}.name")


def _replace_levels(badge: Badge, levels: Sequence[dict[str, Any]]) -> None:
    """Change the levels in place, rank by rank: deleting and inserting the same ``(badge, rank)`` in
    one flush would break the unique key, since inserts are flushed first."""
    existing = {level.rank: level for level in badge.levels}
    for rank, spec in enumerate(levels, start=1):
        level = existing.get(rank)
        if level is None:
            level = BadgeLevel(rank=rank)
            badge.levels.append(level)
        level.name, level.target, level.points = spec.get("name"), spec["target"], spec.get("points", 0)
    badge.levels[:] = [level for level in badge.levels if level.rank <= len(levels)]
