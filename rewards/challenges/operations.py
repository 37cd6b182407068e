"""Challenge use cases: move a member's steps on an activity, complete and reward a challenge once,
join one, read a member's challenges, configure challenges.

A step moves in one statement (``… ON CONFLICT DO UPDATE SET value = value + 1 WHERE value < count``)
in the transaction of the activity; the completion is a guarded update (``… WHERE completed_at IS
NULL``) of the member's one participation row, so the reward is given once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import dialect_insert, insert_if_absent, rowcount, table_of
from loyalty.engagement.models import EngagementAction
from loyalty.errors import Conflict, DomainError, InvalidOperation, NotFound
from loyalty.i18n import Translations
from loyalty.ledger import operations as ledger
from loyalty.program.cache import cached, touch
from rewards.activity import PURCHASE, Activity
from rewards.badges.models import Badge
from rewards.badges.operations import award_badge, counted_by_a_badge
from rewards.catalog.models import Reward
from rewards.catalog.operations import grant_offer
from rewards.challenges.models import Challenge, ChallengeParticipation, ChallengeProgress, ChallengeStep
from rewards.events import ChallengeCompleted

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepView:
    id: int
    position: int
    kind: str
    action: str | None
    category: str | None
    count: int

    def matches(self, activity: Activity) -> bool:
        if activity.kind != self.kind:
            return False
        if activity.kind == PURCHASE:
            return self.category is None or self.category in activity.categories
        return activity.action == self.action


@dataclass(frozen=True)
class ChallengeView:
    """A challenge as read from the configuration (a plain value shared between requests)."""

    id: int
    code: str
    name: str
    description: str
    starts_at: datetime
    ends_at: datetime | None
    is_ordered: bool
    requires_join: bool
    reward_points: int
    reward_badge_code: str | None
    reward_code: str | None
    is_active: bool
    steps: tuple[StepView, ...]
    #: The name and description in other languages (:mod:`loyalty.i18n`).
    translations: Translations

    def is_open(self, at: datetime) -> bool:
        """Active, and ``at`` inside its window."""
        return self.is_active and self.starts_at <= at and not self.is_over(at)

    def is_over(self, at: datetime) -> bool:
        return self.ends_at is not None and at >= self.ends_at


@dataclass(frozen=True)
class StepProgress:
    step: StepView
    #: How many times the member did it (never above its count).
    done: int


@dataclass(frozen=True)
class ChallengeStanding:
    """Where a member stands on a challenge: joined or not, each step's progress, completed or not."""

    challenge: ChallengeView
    joined_at: datetime | None
    completed_at: datetime | None
    steps: tuple[StepProgress, ...]

    @property
    def status(self) -> str:
        """``completed``, ``in_progress`` (joined, or a step done), ``not_joined`` (an opt-in challenge
        the member has not joined) or ``not_started``."""
        if self.completed_at is not None:
            return "completed"
        if self.joined_at is not None:
            return "in_progress"
        return "not_joined" if self.challenge.requires_join else "not_started"

    @property
    def percentage(self) -> int:
        """Of all the steps' counts together, 0 to 100."""
        total = sum(progress.step.count for progress in self.steps)
        return sum(progress.done for progress in self.steps) * 100 // total


def all_challenges(session: Session) -> tuple[ChallengeView, ...]:
    return cached(session, "challenges", _read_challenges)


def _read_challenges(session: Session) -> tuple[ChallengeView, ...]:
    return tuple(
        ChallengeView(
            id=challenge.id,
            code=challenge.code,
            name=challenge.name,
            description=challenge.description,
            starts_at=challenge.starts_at,
            ends_at=challenge.ends_at,
            is_ordered=challenge.is_ordered,
            requires_join=challenge.requires_join,
            reward_points=challenge.reward_points,
            reward_badge_code=challenge.reward_badge_code,
            reward_code=challenge.reward_code,
            is_active=challenge.is_active,
            steps=tuple(
                StepView(step.id, step.position, step.kind, step.action, step.category, step.count)
                for step in challenge.steps
            ),
            translations=challenge.translations,
        )
        for challenge in session.scalars(select(Challenge).order_by(Challenge.starts_at, Challenge.code))
    )


# -- Progress -----------------------------------------------------------------------------------------


def record_activity(session: Session, activity: Activity) -> None:
    """Move the steps ``activity`` matches in each open challenge the member takes part in (every
    member takes part in a challenge without opt-in), and complete the challenges it finishes."""
    for challenge in all_challenges(session):
        if not challenge.is_open(activity.at):
            continue
        matching = [step for step in challenge.steps if step.matches(activity)]
        if not matching:
            continue
        participation = _participation(session, challenge, activity)
        if participation is None or participation.completed_at is not None:
            continue
        done = _progress(session, [participation.id]).get(participation.id, {})
        if challenge.is_ordered:  # only the first step not done yet can move
            current = next((step for step in challenge.steps if done.get(step.id, 0) < step.count), None)
            matching = [current] if current in matching else []
        for step in matching:
            if done.get(step.id, 0) < step.count:
                done[step.id] = _advance(session, participation.id, step, activity.at)
        if all(done.get(step.id, 0) >= step.count for step in challenge.steps):
            _complete(session, challenge, participation.id, activity.member_id, activity.at)


def _participation(session: Session, challenge: ChallengeView, activity: Activity) -> ChallengeParticipation | None:
    """The member's participation; for a challenge without opt-in, created by its first step."""
    query = select(ChallengeParticipation).where(
        ChallengeParticipation.member_id == activity.member_id, ChallengeParticipation.challenge_id == challenge.id
    )
    found = session.scalar(query)
    if found is None and not challenge.requires_join:
        insert_if_absent(
            session,
            ChallengeParticipation,
            {
                "member_id": activity.member_id,
                "challenge_id": challenge.id,
                "joined_at": activity.at,
                "completed_at": None,
            },
            key=("member_id", "challenge_id"),
        )
        found = session.scalar(query)
    return found


def _progress(session: Session, participation_ids: list[int]) -> dict[int, dict[int, int]]:
    """How far each participation got on each step: ``{participation: {step: value}}``."""
    found: dict[int, dict[int, int]] = {}
    rows = session.execute(
        select(ChallengeProgress.participation_id, ChallengeProgress.step_id, ChallengeProgress.value).where(
            ChallengeProgress.participation_id.in_(participation_ids)
        )
    )
    for participation_id, step_id, value in rows:
        found.setdefault(participation_id, {})[step_id] = value
    return found


def _advance(session: Session, participation_id: int, step: StepView, at: datetime) -> int:
    """One more time on ``step``, never beyond its count; the new value."""
    table = table_of(ChallengeProgress)
    stmt = dialect_insert(session)(table).values(
        participation_id=participation_id, step_id=step.id, value=1, updated_at=at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["participation_id", "step_id"],
        set_={"value": table.c.value + 1, "updated_at": at},
        where=table.c.value < step.count,
    )
    value = session.execute(stmt.returning(table.c.value)).scalar_one_or_none()
    return step.count if value is None else value


def _complete(session: Session, challenge: ChallengeView, participation_id: int, member_id: int, at: datetime) -> None:
    """Mark the participation completed (once) and give the reward: points, a badge, a voucher."""
    completed = session.execute(
        update(ChallengeParticipation)
        .where(ChallengeParticipation.id == participation_id, ChallengeParticipation.completed_at.is_(None))
        .values(completed_at=at),
        execution_options={"synchronize_session": False},
    )
    if rowcount(completed) != 1:
        return
    if challenge.reward_points:
        ledger.post(
            session,
            member_id=member_id,
            points=challenge.reward_points,
            kind="bonus",
            reason=f"challenge {challenge.code}",
            now=at,
            source=("challenge", str(participation_id)),
        )
    if challenge.reward_badge_code:
        award_badge(session, member_id=member_id, badge_code=challenge.reward_badge_code, now=at)
    if challenge.reward_code:
        _give_voucher(session, member_id, challenge, at)
    outbox.record(
        session,
        ChallengeCompleted(
            occurred_at=at, member_id=member_id, challenge_code=challenge.code, challenge_name=challenge.name
        ),
    )


def _give_voucher(session: Session, member_id: int, challenge: ChallengeView, at: datetime) -> None:
    """The challenge's offer voucher; when it cannot be given (out of stock, withdrawn) the completion
    and the rest of its reward stand."""
    assert challenge.reward_code is not None
    session.flush()  # what came before must not ride in (and roll back with) the savepoint
    try:
        with session.begin_nested():
            grant_offer(session, member_id=member_id, reward_code=challenge.reward_code, now=at, source="challenge")
    except DomainError as error:
        logger.warning(
            "challenge %s: voucher %s not given to member %s: %s",
            challenge.code,
            challenge.reward_code,
            member_id,
            error.detail,
        )


def join_challenge(session: Session, *, member_id: int, code: str, now: datetime) -> bool:
    """Join a challenge (needed for an opt-in one); True if the member had not joined before. A
    challenge may be joined before it starts, not after it ends."""
    challenge = _active_challenge(session, code)
    if challenge.is_over(now):
        raise InvalidOperation("this challenge is over", field="code")
    participation_id = insert_if_absent(
        session,
        ChallengeParticipation,
        {"member_id": member_id, "challenge_id": challenge.id, "joined_at": now, "completed_at": None},
        key=("member_id", "challenge_id"),
    )
    return participation_id is not None


def _active_challenge(session: Session, code: str) -> ChallengeView:
    challenge = next((item for item in all_challenges(session) if item.code == code and item.is_active), None)
    if challenge is None:
        raise NotFound(f"no challenge has the code {code!r}", field="code")
    return challenge


# -- Reading -------------------------------------------------------------------------------------------


def open_challenges(session: Session, *, now: datetime) -> list[ChallengeView]:
    """The active challenges that are not over (those still to start included)."""
    return [challenge for challenge in all_challenges(session) if challenge.is_active and not challenge.is_over(now)]


def member_challenges(
    session: Session, member_id: int, *, now: datetime, code: str | None = None
) -> list[ChallengeStanding]:
    """The member's standing on each challenge that is not over and on each they took part in (only
    the one called ``code``, if given); two queries."""
    participations = {
        row.challenge_id: row
        for row in session.scalars(select(ChallengeParticipation).where(ChallengeParticipation.member_id == member_id))
    }
    progress = _progress(session, [row.id for row in participations.values()])
    standings = []
    for challenge in all_challenges(session):
        participation = participations.get(challenge.id)
        if code is not None and challenge.code != code:
            continue
        if participation is None and not (challenge.is_active and not challenge.is_over(now)):
            continue
        done = progress.get(participation.id, {}) if participation else {}
        standings.append(
            ChallengeStanding(
                challenge=challenge,
                joined_at=participation.joined_at if participation else None,
                completed_at=participation.completed_at if participation else None,
                steps=tuple(StepProgress(step, done.get(step.id, 0)) for step in challenge.steps),
            )
        )
    return standings


# -- Configuration ------------------------------------------------------------------------------------


def list_challenges(session: Session) -> list[Challenge]:
    return list(session.scalars(select(Challenge).order_by(Challenge.starts_at, Challenge.code)))


def get_challenge(session: Session, code: str) -> Challenge:
    challenge = session.scalar(select(Challenge).where(Challenge.code == code))
    if challenge is None:
        raise NotFound(f"no challenge has the code {code!r}", field="code")
    return challenge


def save_challenge(session: Session, fields: dict[str, Any], *, code: str | None = None) -> Challenge:
    """Create a challenge, or change the one with ``code``. Checked: the window ends after it starts,
    engagement steps name existing actions, the reward badge exists and the reward voucher is an
    offer of the catalog; the steps cannot change once members take part."""
    if code is None and session.scalar(select(Challenge.id).where(Challenge.code == fields["code"])) is not None:
        raise Conflict(f"a challenge called {fields['code']!r} exists already", field="code")
    challenge = (
        get_challenge(session, code)
        if code is not None
        else Challenge(description="", is_ordered=False, requires_join=False, reward_points=0, is_active=True)
    )
    steps = fields.pop("steps", None)
    if steps is not None and code is not None and _has_participants(session, challenge):
        raise Conflict("members take part in this challenge: its steps cannot change", field="steps")
    with session.no_autoflush:
        for name, value in fields.items():
            setattr(challenge, name, value)
        if challenge.ends_at is not None and challenge.ends_at <= challenge.starts_at:
            raise InvalidOperation("the window must end after it starts", field="ends_at")
        _check_reward(session, challenge)
        if steps is not None:
            _check_steps(session, steps)
    session.add(challenge)
    if steps is not None:
        challenge.steps.clear()
        session.flush()  # the old steps go before new ones take their positions
        challenge.steps.extend(ChallengeStep(position=position, **step) for position, step in enumerate(steps, start=1))
    elif not challenge.steps:
        raise InvalidOperation("a challenge needs steps", field="steps")
    session.flush()
    touch(session)
    return challenge


def delete_challenge(session: Session, code: str) -> None:
    """Remove a challenge nobody takes part in and no badge counts; otherwise deactivate it."""
    challenge = get_challenge(session, code)
    if _has_participants(session, challenge):
        raise Conflict("members take part in this challenge: deactivate it instead", field="code")
    if counted_by_a_badge(session, "challenges_completed", code):
        raise Conflict("a badge counts this challenge", field="code")
    session.delete(challenge)
    session.flush()
    touch(session)


def _has_participants(session: Session, challenge: Challenge) -> bool:
    found = select(ChallengeParticipation.id).where(ChallengeParticipation.challenge_id == challenge.id).limit(1)
    return session.scalar(found) is not None


def _check_reward(session: Session, challenge: Challenge) -> None:
    badge_code = challenge.reward_badge_code
    if badge_code is not None and session.scalar(select(Badge.id).where(Badge.code == badge_code)) is None:
        raise InvalidOperation(f"no badge has the code {badge_code!r}", field="reward_badge_code")
    if challenge.reward_code is not None:
        reward = session.scalar(select(Reward).where(Reward.code == challenge.reward_code))
        if reward is None or not reward.is_offer:
            raise InvalidOperation(f"no offer reward has the code {challenge.reward_code!r}", field="reward_code")


def _check_steps(session: Session, steps: list[dict[str, Any]]) -> None:
    if not steps:
        raise InvalidOperation("a challenge needs steps", field="steps")
    actions = set(session.scalars(select(EngagementAction.key)))
    for index, step in enumerate(steps):
        if step["kind"] == "engagement":
            if step.get("action") not in actions:
                raise InvalidOperation(
                    f"no engagement action is called {step.get('action')!r}", field=f"steps.{index}.action"
                )
            if step.get("category") is not None:
                raise InvalidOperation("only a purchase step has a category", field=f"steps.{index}.category")
        elif step.get("action") is not None:
            raise InvalidOperation("only an engagement step has an action", field=f"steps.{index}.action")
