"""The facts of ``rewards``: rewards unlocked and redeemed, vouchers used or cancelled, badges,
challenges, streaks, quizzes and instant-win games (:class:`loyalty.events.DomainEvent`)."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class RewardUnlocked(DomainEvent):
    """A credit carried a member across a point threshold; its reward is issued or left to claim."""

    member_id: int
    threshold: int
    reward_code: str
    auto_issue: bool


@dataclass(frozen=True, kw_only=True)
class RewardRedeemed(DomainEvent):
    """Points were spent on a reward and a voucher issued (by the member, a threshold or a scenario)."""

    member_id: int
    reward_code: str
    voucher_id: int
    points: int
    source: str


@dataclass(frozen=True, kw_only=True)
class VoucherUsed(DomainEvent):
    """A voucher was used at a till or online."""

    member_id: int
    voucher_id: int
    store_code: str


@dataclass(frozen=True, kw_only=True)
class VoucherCancelled(DomainEvent):
    """An unused voucher was cancelled and its points given back."""

    member_id: int
    voucher_id: int


@dataclass(frozen=True, kw_only=True)
class BadgeAwarded(DomainEvent):
    """A member earned a badge, or a higher level of one; once per (member, badge, level)."""

    member_id: int
    badge_code: str
    badge_name: str
    #: The level's rank, 1 for the first (and for a badge with a single target).
    level: int
    #: The level's name (``bronze``, ``silver``…); None for a badge with a single target.
    level_name: str | None
    #: Points credited with the badge (0 for none).
    points: int = 0


@dataclass(frozen=True, kw_only=True)
class ChallengeCompleted(DomainEvent):
    """A member did every step of a challenge inside its window; once per (member, challenge)."""

    member_id: int
    challenge_code: str
    challenge_name: str


@dataclass(frozen=True, kw_only=True)
class StreakExtended(DomainEvent):
    """A member's first qualifying activity of a new day or week: their run is ``length`` periods long
    (1 when a new run starts); ``best`` is their longest run."""

    member_id: int
    streak_code: str
    length: int
    best: int


@dataclass(frozen=True, kw_only=True)
class QuizAnswered(DomainEvent):
    """A member answered a quiz (once per quiz): how many questions they got right and the points earned."""

    member_id: int
    quiz_code: str
    attempt_id: int
    correct: int
    questions: int
    points: int


@dataclass(frozen=True, kw_only=True)
class GamePlayEarned(DomainEvent):
    """A qualifying purchase or engagement gave a member a play of an instant-win game."""

    member_id: int
    game_code: str
    credit_id: int
    #: What earned it: ``purchase`` or ``engagement``.
    source: str


@dataclass(frozen=True, kw_only=True)
class GamePlayed(DomainEvent):
    """A member spent a play of an instant-win game; ``prize_code`` is None when they won nothing."""

    member_id: int
    game_code: str
    play_id: int
    prize_code: str | None
