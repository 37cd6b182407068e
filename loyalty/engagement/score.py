"""The engagement score: a time-decayed weighted sum of a member's interactions, and its level.

Each interaction (a purchase, an engagement action recorded within its limits, a message opened or
clicked, a game played) adds its weight to the score; between interactions the score halves every
half-life. Only ``(score, as_of)`` is stored; the score at a later instant is computed when read::

    score(now) = score * 0.5 ** ((now - as_of) / half_life)

A score at or above ``engaged_from`` is ``engaged``, at or above ``at_risk_from`` ``at_risk``, below
it ``dormant``. The row also keeps the level and ``drops_at``, the instant the decaying score will
fall below the level's lower boundary, so that the members whose level falls are one indexed query
away (``loyalty.engagement.tasks``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.db import insert_if_absent, one_of, table_of, upsert_many
from loyalty.engagement.models import SCORE_INTERACTIONS, EngagementScore, EngagementScoreSettings
from loyalty.errors import InvalidOperation
from loyalty.events import DomainEvent, EngagementRecorded, PurchaseRecorded
from loyalty.program.cache import cached, touch

#: The events the score reacts to, by name, and the interaction each one is. By name, because the
#: messages' and games' events are facts of ``notifications`` and ``rewards``, which build on the core.
SCORED_EVENTS: Mapping[str, str] = {
    "PurchaseRecorded": "purchase",
    "PurchaseClaimed": "purchase",
    "EngagementRecorded": "engagement",
    "MessageOpened": "message_opened",
    "MessageClicked": "message_clicked",
    "GamePlayed": "game_played",
}


@dataclass(frozen=True)
class ScoreSettings:
    """The score's settings as read from the configuration (a plain value shared between requests)."""

    half_life: timedelta
    weights: Mapping[str, float]
    engaged_from: float
    at_risk_from: float

    def level_of(self, score: float) -> str:
        if score >= self.engaged_from:
            return "engaged"
        return "at_risk" if score >= self.at_risk_from else "dormant"

    def floor_of(self, level: str) -> float | None:
        """The lowest score of ``level``; None for ``dormant``, which has none."""
        return {"engaged": self.engaged_from, "at_risk": self.at_risk_from}.get(level)

    def decayed(self, score: float, as_of: datetime, now: datetime) -> float:
        """``score`` at ``as_of``, seen at ``now``."""
        elapsed = max((now - as_of) / self.half_life, 0.0)
        return score * 0.5**elapsed

    def standing(self, score: float, as_of: datetime, now: datetime) -> EngagementStanding:
        """``score`` (at ``as_of``) seen at ``now``: decayed and rounded, with its level."""
        decayed = self.decayed(score, as_of, now)
        return EngagementStanding(score=round(decayed, 2), level=self.level_of(decayed))

    def drops_at(self, score: float, as_of: datetime) -> datetime | None:
        """When ``score`` (at ``as_of``) falls below its level's lower boundary: the next whole second
        after the exact instant, so that the score is below the boundary then; None for ``dormant``."""
        floor = self.floor_of(self.level_of(score))
        if floor is None:
            return None
        exact = as_of + self.half_life * math.log2(score / floor)
        return exact.replace(microsecond=0) + timedelta(seconds=1)


@dataclass(frozen=True)
class EngagementStanding:
    score: float
    level: str


def score_settings(session: Session) -> ScoreSettings | None:
    """The score's settings; None when the program has none (then no score is kept)."""
    return cached(session, "engagement_score", _read_settings)


def _read_settings(session: Session) -> ScoreSettings | None:
    row = session.get(EngagementScoreSettings, 1)
    if row is None:
        return None
    return ScoreSettings(
        half_life=timedelta(days=row.half_life_days),
        weights=dict(row.weights),
        engaged_from=row.engaged_from,
        at_risk_from=row.at_risk_from,
    )


def interaction_of(event: DomainEvent) -> str | None:
    """The kind of interaction an event is for the score, if it is one."""
    match event:
        case PurchaseRecorded(member_id=None) | EngagementRecorded(awarded=False):
            return None
    return SCORED_EVENTS.get(event.name)


def add_interaction(session: Session, *, member_id: int, interaction: str, now: datetime) -> None:
    """Add the interaction's weight to the member's decayed score, and keep its level and ``drops_at``.

    The member's score row is locked while it is read and written: interactions that do not lock the
    member (a message opened, a game played) are added one at a time too.
    """
    settings = score_settings(session)
    weight = settings.weights.get(interaction, 0.0) if settings else 0.0
    if settings is None or weight <= 0:
        return
    locked = (
        select(EngagementScore.score, EngagementScore.as_of)
        .where(EngagementScore.member_id == member_id)
        .with_for_update()
    )
    row = session.execute(locked).one_or_none()
    if row is None:
        level, drops_at = settings.level_of(weight), settings.drops_at(weight, now)
        first = {"member_id": member_id, "score": weight, "as_of": now, "level": level, "drops_at": drops_at}
        if insert_if_absent(session, EngagementScore, first, key=("member_id",)) is not None:
            return
        row = session.execute(locked).one()  # a concurrent first interaction inserted it
    score, as_of = settings.decayed(row.score, row.as_of, now) + weight, max(now, row.as_of)
    session.execute(
        update(EngagementScore)
        .where(EngagementScore.member_id == member_id)
        .values(score=score, as_of=as_of, level=settings.level_of(score), drops_at=settings.drops_at(score, as_of)),
        execution_options={"synchronize_session": False},
    )


def add_interactions(session: Session, interactions: Sequence[tuple[int, str, datetime]]) -> None:
    """:func:`add_interaction` for each ``(member, interaction, at)`` in turn, on the members' scores
    read at once (locked) and written back in one upsert: the ``engagement-score`` consumer's batch."""
    settings = score_settings(session)
    if settings is None:
        return
    weighed = [(member_id, settings.weights.get(interaction, 0.0), at) for member_id, interaction, at in interactions]
    weighed = [(member_id, weight, at) for member_id, weight, at in weighed if weight > 0]
    if not weighed:
        return
    members = sorted({member_id for member_id, _, _ in weighed})
    locked = (
        select(EngagementScore.member_id, EngagementScore.score, EngagementScore.as_of)
        .where(one_of(session, EngagementScore.member_id, members))
        .order_by(EngagementScore.member_id)
        .with_for_update()
    )
    scores: dict[int, tuple[float, datetime]] = {member_id: (score, as_of) for member_id, score, as_of in session.execute(locked)}
    moved: set[int] = set()
    for member_id, weight, at in weighed:
        if member_id in scores:
            score, as_of = scores[member_id]
            scores[member_id] = (settings.decayed(score, as_of, at) + weight, max(at, as_of))
        else:
            scores[member_id] = (weight, at)
        moved.add(member_id)
    rows = [
        {
            "member_id": member_id, "score": float(score), "as_of": as_of,  # one array of one type (weights may be whole)
            "level": settings.level_of(score), "drops_at": settings.drops_at(score, as_of),
        }  # fmt: skip
        for member_id in sorted(moved)
        for score, as_of in [scores[member_id]]
    ]
    upsert_many(session, table_of(EngagementScore), rows, conflict=_overwrite)


def _overwrite(stmt: Any) -> Any:
    """Scores already there take the values given."""
    return stmt.on_conflict_do_update(
        index_elements=["member_id"], set_={name: stmt.excluded[name] for name in ("score", "as_of", "level", "drops_at")}
    )


def member_engagement(session: Session, member_id: int, *, now: datetime) -> EngagementStanding | None:
    """The member's score and level now (0 and ``dormant`` before any interaction); None when the
    program keeps no score."""
    if score_settings(session) is None:
        return None
    row = session.scalar(select(EngagementScore).where(EngagementScore.member_id == member_id))
    return standing(session, row.score if row else None, row.as_of if row else None, now=now)


def standing(session: Session, score: float | None, as_of: datetime | None, *, now: datetime) -> EngagementStanding | None:
    """The standing now of a score kept as of ``as_of`` (None: no score yet, 0 and ``dormant``); None
    when the program keeps no score."""
    settings = score_settings(session)
    if settings is None:
        return None
    if score is None or as_of is None:
        return settings.standing(0.0, now, now)
    return settings.standing(score, as_of, now)


def get_score_settings(session: Session) -> EngagementScoreSettings | None:
    return session.get(EngagementScoreSettings, 1)


def save_score_settings(session: Session, fields: dict[str, Any]) -> EngagementScoreSettings:
    """Create or change the score's settings. Every member's level is then reviewed by the next runs
    of the drop task (their ``drops_at`` is set back to their ``as_of``), which fires
    ``EngagementDropped`` for those the new settings put lower."""
    row = session.get(EngagementScoreSettings, 1) or EngagementScoreSettings(id=1)
    with session.no_autoflush:
        for name, value in fields.items():
            setattr(row, name, value)
        for interaction in row.weights:
            if interaction not in SCORE_INTERACTIONS:
                raise InvalidOperation(f"no interaction is called {interaction!r}", field=f"weights.{interaction}")
        if row.engaged_from <= row.at_risk_from:
            raise InvalidOperation("engaged_from must be above at_risk_from", field="engaged_from")
    session.add(row)
    session.execute(
        update(EngagementScore).values(drops_at=EngagementScore.as_of), execution_options={"synchronize_session": False}
    )
    session.flush()
    touch(session)
    return row
