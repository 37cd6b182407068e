"""Domain events: past-tense facts recorded in the same transaction as the change (design rule 4).

Each event is written to the outbox by :func:`loyalty.outbox.record`, handed in the same transaction
to the few handlers the answer depends on, and read after commit by the outbox consumers
(``notifications/bootstrap.py``), so nothing derived or sent comes of a change that rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar, get_type_hints


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every event; ``name`` is the stable type stored in the outbox."""

    name: ClassVar[str]
    occurred_at: datetime
    member_id: int | None = None

    def payload(self) -> dict[str, Any]:
        """The event as JSON-ready data (datetimes as ISO-8601, amounts as strings)."""
        return {name: _jsonable(getattr(self, name)) for name in _field_names(type(self))}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DomainEvent:
        """The event :meth:`payload` wrote (datetimes and amounts parsed back; unknown keys ignored)."""
        kinds = _field_kinds(cls)
        return cls(**{name: _parsed(kinds[name], value) for name, value in payload.items() if name in kinds})


def event_type(name: str) -> type[DomainEvent]:
    """The event class stored under ``name`` in the outbox."""
    return _event_types()[name]


def all_event_types() -> tuple[type[DomainEvent], ...]:
    """Every event class, by name."""
    return tuple(cls for _, cls in sorted(_event_types().items()))


@cache
def _event_types() -> dict[str, type[DomainEvent]]:
    found: dict[str, type[DomainEvent]] = {}
    pending = list(DomainEvent.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.name] = cls
        pending.extend(cls.__subclasses__())
    return found


_FIELD_KINDS: dict[str, dict[str, Any]] = {}


def _field_kinds(cls: type[DomainEvent]) -> dict[str, Any]:
    if cls.name not in _FIELD_KINDS:
        hints = get_type_hints(cls)
        _FIELD_KINDS[cls.name] = {f.name: hints[f.name] for f in fields(cls) if f.init}
    return _FIELD_KINDS[cls.name]


_FIELD_NAMES: dict[type[DomainEvent], tuple[str, ...]] = {}


def _field_names(cls: type[DomainEvent]) -> tuple[str, ...]:
    """The fields of an event's payload, by class (``dataclasses.asdict`` would deep-copy every value)."""
    if cls not in _FIELD_NAMES:
        _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return _FIELD_NAMES[cls]


def _parsed(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if datetime in (kind, *getattr(kind, "__args__", ())):
        return datetime.fromisoformat(value)
    if Decimal in (kind, *getattr(kind, "__args__", ())):
        return Decimal(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class MemberEnrolled(DomainEvent):
    """A member joined the program; carries the channel of enrolment and the sponsor, if any."""

    name: ClassVar[str] = "MemberEnrolled"
    member_id: int
    sponsor_id: int | None = None
    source: str = "api"


@dataclass(frozen=True, kw_only=True)
class MemberUpdated(DomainEvent):
    """A member's profile changed; carries the names of the fields that changed."""

    name: ClassVar[str] = "MemberUpdated"
    member_id: int
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class MemberErased(DomainEvent):
    """A member's personal data was erased at their request (GDPR): systems that copied it erase theirs."""

    name: ClassVar[str] = "MemberErased"
    member_id: int


@dataclass(frozen=True, kw_only=True)
class PurchaseRecorded(DomainEvent):
    """A till, the web shop or the app recorded a purchase; ``member_id`` is None until claimed."""

    name: ClassVar[str] = "PurchaseRecorded"
    purchase_id: int
    store_code: str
    channel: str
    total: Decimal
    currency: str
    is_first_purchase: bool = False
    #: Imported as history (older than the import's cut-off): no scenario reacts to it.
    is_history: bool = False


@dataclass(frozen=True, kw_only=True)
class PurchaseClaimed(DomainEvent):
    """A member attached an anonymous purchase to their account after the fact."""

    name: ClassVar[str] = "PurchaseClaimed"
    member_id: int
    purchase_id: int
    #: What the member keeps of it: its total less what was returned before the claim.
    total: Decimal


@dataclass(frozen=True, kw_only=True)
class PurchaseReturned(DomainEvent):
    """Goods of a purchase came back; carries the amount returned by this return."""

    name: ClassVar[str] = "PurchaseReturned"
    purchase_id: int
    return_id: int
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class PointsEarned(DomainEvent):
    """Points were credited (purchase, bonus or positive adjustment); carries the member's new figures."""

    name: ClassVar[str] = "PointsEarned"
    member_id: int
    points: int
    balance: int
    #: The ledger entry's kind: ``earn``, ``bonus``, ``adjust``, or ``reverse`` for points given back.
    kind: str
    reason: str
    #: Counted towards tiers (purchases, engagement).
    qualifying: bool = False
    #: The member's lifetime points and tier code right after the credit.
    lifetime_points: int = 0
    tier: str = ""
    #: The store of the purchase that earned the points; None for any other credit.
    store_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class PointsDebited(DomainEvent):
    """Points were taken away (reversal, redemption, expiry or negative adjustment)."""

    name: ClassVar[str] = "PointsDebited"
    member_id: int
    points: int
    balance: int
    reason: str
    #: The ledger entry's kind: ``reverse`` (a return), ``redeem``, ``expire`` or ``adjust``.
    kind: str = ""
    #: What the entry is about, e.g. ``("purchase", "42")`` for a return's reversal; None for none.
    source_type: str | None = None
    source_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PointsExpiring(DomainEvent):
    """Some of a member's points will expire soon: how many, and the first date."""

    name: ClassVar[str] = "PointsExpiring"
    member_id: int
    points: int
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class PendingPointsReleased(DomainEvent):
    """A purchase's points, held for its return window, became spendable."""

    name: ClassVar[str] = "PendingPointsReleased"
    member_id: int
    purchase_id: int
    points: int


@dataclass(frozen=True, kw_only=True)
class TierUpgraded(DomainEvent):
    """A member's qualifying points carried them up the ladder (possibly over several tiers)."""

    name: ClassVar[str] = "TierUpgraded"
    member_id: int
    from_tier: str
    to_tier: str
    qualifying_points: int


@dataclass(frozen=True, kw_only=True)
class TierDowngraded(DomainEvent):
    """At their review date, a member's qualifying points no longer held their tier: one tier down."""

    name: ClassVar[str] = "TierDowngraded"
    member_id: int
    from_tier: str
    to_tier: str
    qualifying_points: int


@dataclass(frozen=True, kw_only=True)
class CardIssuanceQueued(DomainEvent):
    """A new physical card is to be printed and sent (an upgrade to a tier that has one)."""

    name: ClassVar[str] = "CardIssuanceQueued"
    member_id: int
    card_issuance_id: int
    tier: str


@dataclass(frozen=True, kw_only=True)
class EngagementRecorded(DomainEvent):
    """A member did something that earns points; ``awarded`` is false when a limit held it at 0."""

    name: ClassVar[str] = "EngagementRecorded"
    member_id: int
    action: str
    ref: str
    points: int
    awarded: bool


@dataclass(frozen=True, kw_only=True)
class CustomEventRecorded(DomainEvent):
    """The brand's systems posted a custom event for a member (``POST /events``); carries its type,
    ref, the instant it happened, its properties and the points the actions bound to it awarded."""

    name: ClassVar[str] = "CustomEventRecorded"
    member_id: int
    event_type: str
    ref: str
    event_occurred_at: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    points: int = 0


@dataclass(frozen=True, kw_only=True)
class ReferralRewarded(DomainEvent):
    """A referee's first qualifying purchase rewarded them and their sponsor (``member_id``)."""

    name: ClassVar[str] = "ReferralRewarded"
    member_id: int
    referee_id: int


@dataclass(frozen=True, kw_only=True)
class RewardUnlocked(DomainEvent):
    """A credit carried a member across a point threshold; its reward is issued or left to claim."""

    name: ClassVar[str] = "RewardUnlocked"
    member_id: int
    threshold: int
    reward_code: str
    auto_issue: bool


@dataclass(frozen=True, kw_only=True)
class RewardRedeemed(DomainEvent):
    """Points were spent on a reward and a voucher issued (by the member, a threshold or a scenario)."""

    name: ClassVar[str] = "RewardRedeemed"
    member_id: int
    reward_code: str
    voucher_id: int
    points: int
    source: str


@dataclass(frozen=True, kw_only=True)
class VoucherUsed(DomainEvent):
    """A voucher was used at a till or online."""

    name: ClassVar[str] = "VoucherUsed"
    member_id: int
    voucher_id: int
    store_code: str


@dataclass(frozen=True, kw_only=True)
class VoucherCancelled(DomainEvent):
    """An unused voucher was cancelled and its points given back."""

    name: ClassVar[str] = "VoucherCancelled"
    member_id: int
    voucher_id: int


@dataclass(frozen=True, kw_only=True)
class BadgeAwarded(DomainEvent):
    """A member earned a badge, or a higher level of one; once per (member, badge, level)."""

    name: ClassVar[str] = "BadgeAwarded"
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

    name: ClassVar[str] = "ChallengeCompleted"
    member_id: int
    challenge_code: str
    challenge_name: str


@dataclass(frozen=True, kw_only=True)
class StreakExtended(DomainEvent):
    """A member's first qualifying activity of a new day or week: their run is ``length`` periods long
    (1 when a new run starts); ``best`` is their longest run."""

    name: ClassVar[str] = "StreakExtended"
    member_id: int
    streak_code: str
    length: int
    best: int


@dataclass(frozen=True, kw_only=True)
class MessageOpened(DomainEvent):
    """A member opened a message (an email, a push notification, an in-app message)."""

    name: ClassVar[str] = "MessageOpened"
    member_id: int
    message_id: int
    channel: str
    #: The code of the scenario that sent it; None for a message sent outside scenarios.
    scenario: str | None


@dataclass(frozen=True, kw_only=True)
class MessageClicked(DomainEvent):
    """A member followed a link of a message."""

    name: ClassVar[str] = "MessageClicked"
    member_id: int
    message_id: int
    channel: str
    scenario: str | None


@dataclass(frozen=True, kw_only=True)
class EngagementDropped(DomainEvent):
    """A member's decaying engagement score fell below their level's lower boundary
    (``engaged`` → ``at_risk`` → ``dormant``); ``score`` is the score at that moment."""

    name: ClassVar[str] = "EngagementDropped"
    member_id: int
    from_level: str
    to_level: str
    score: float


@dataclass(frozen=True, kw_only=True)
class QuizAnswered(DomainEvent):
    """A member answered a quiz (once per quiz): how many questions they got right and the points earned."""

    name: ClassVar[str] = "QuizAnswered"
    member_id: int
    quiz_code: str
    attempt_id: int
    correct: int
    questions: int
    points: int


@dataclass(frozen=True, kw_only=True)
class GamePlayEarned(DomainEvent):
    """A qualifying purchase or engagement gave a member a play of an instant-win game."""

    name: ClassVar[str] = "GamePlayEarned"
    member_id: int
    game_code: str
    credit_id: int
    #: What earned it: ``purchase`` or ``engagement``.
    source: str


@dataclass(frozen=True, kw_only=True)
class GamePlayed(DomainEvent):
    """A member spent a play of an instant-win game; ``prize_code`` is None when they won nothing."""

    name: ClassVar[str] = "GamePlayed"
    member_id: int
    game_code: str
    play_id: int
    prize_code: str | None
