"""Domain events: past-tense facts recorded in the same transaction as the change (design rule 4).

Each event is written to the outbox by :func:`loyalty.outbox.record`, handed in the same transaction
to the few handlers the answer depends on, and read after commit by the outbox consumers
(``notifications/bootstrap.py``), so nothing derived or sent comes of a change that rolled back.

This module holds the base class, the registry that decodes outbox rows and the core's events; the
facts of ``rewards`` and ``notifications`` are in their own ``events.py`` (:data:`PACKAGE_EVENTS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import import_module
from typing import Any, ClassVar, get_type_hints


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every event; ``name``, its class's name, is the stable type stored in the outbox and
    sent to webhooks: renaming an event class renames its type."""

    name: ClassVar[str]
    occurred_at: datetime
    member_id: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__

    def payload(self) -> dict[str, Any]:
        """The event as JSON-ready data (datetimes as ISO-8601, amounts as strings)."""
        return {name: _jsonable(getattr(self, name)) for name in _field_names(type(self))}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DomainEvent:
        """The event :meth:`payload` wrote (datetimes and amounts parsed back; unknown keys ignored)."""
        kinds = _field_kinds(cls)
        return cls(**{name: _parsed(kinds[name], value) for name, value in payload.items() if name in kinds})


#: The events modules of the packages above the core, imported by the registry before it reads the
#: event classes (by name: the core imports nothing from the packages that build on it).
PACKAGE_EVENTS = ("rewards.events", "notifications.events")


def event_type(name: str) -> type[DomainEvent]:
    """The event class stored under ``name`` in the outbox."""
    return _event_types()[name]


def all_event_types() -> tuple[type[DomainEvent], ...]:
    """Every event class, by name."""
    return tuple(cls for _, cls in sorted(_event_types().items()))


@cache
def _event_types() -> dict[str, type[DomainEvent]]:
    for module in PACKAGE_EVENTS:
        import_module(module)
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

    member_id: int
    sponsor_id: int | None = None
    source: str = "api"


@dataclass(frozen=True, kw_only=True)
class MemberUpdated(DomainEvent):
    """A member's profile changed; carries the names of the fields that changed."""

    member_id: int
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class MemberErased(DomainEvent):
    """A member's personal data was erased at their request (GDPR): systems that copied it erase theirs."""

    member_id: int


@dataclass(frozen=True, kw_only=True)
class PurchaseRecorded(DomainEvent):
    """A till, the web shop or the app recorded a purchase; ``member_id`` is None until claimed."""

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

    member_id: int
    purchase_id: int
    #: What the member keeps of it: its total less what was returned before the claim.
    total: Decimal


@dataclass(frozen=True, kw_only=True)
class PurchaseReturned(DomainEvent):
    """Goods of a purchase came back; carries the amount returned by this return."""

    purchase_id: int
    return_id: int
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class PointsEarned(DomainEvent):
    """Points were credited (purchase, bonus or positive adjustment); carries the member's new figures."""

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

    member_id: int
    points: int
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class PendingPointsReleased(DomainEvent):
    """A purchase's points, held for its return window, became spendable."""

    member_id: int
    purchase_id: int
    points: int


@dataclass(frozen=True, kw_only=True)
class TierUpgraded(DomainEvent):
    """A member's qualifying points carried them up the ladder (possibly over several tiers)."""

    member_id: int
    from_tier: str
    to_tier: str
    qualifying_points: int


@dataclass(frozen=True, kw_only=True)
class TierDowngraded(DomainEvent):
    """At their review date, a member's qualifying points no longer held their tier: one tier down."""

    member_id: int
    from_tier: str
    to_tier: str
    qualifying_points: int


@dataclass(frozen=True, kw_only=True)
class CardIssuanceQueued(DomainEvent):
    """A new physical card is to be printed and sent (an upgrade to a tier that has one)."""

    member_id: int
    card_issuance_id: int
    tier: str


@dataclass(frozen=True, kw_only=True)
class EngagementRecorded(DomainEvent):
    """A member did something that earns points; ``awarded`` is false when a limit held it at 0."""

    member_id: int
    action: str
    ref: str
    points: int
    awarded: bool


@dataclass(frozen=True, kw_only=True)
class CustomEventRecorded(DomainEvent):
    """The brand's systems posted a custom event for a member (``POST /events``); carries its type,
    ref, the instant it happened, its properties and the points the actions bound to it awarded."""

    member_id: int
    event_type: str
    ref: str
    event_occurred_at: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    points: int = 0


@dataclass(frozen=True, kw_only=True)
class ReferralRewarded(DomainEvent):
    """A referee's first qualifying purchase rewarded them and their sponsor (``member_id``)."""

    member_id: int
    referee_id: int


@dataclass(frozen=True, kw_only=True)
class EngagementDropped(DomainEvent):
    """A member's decaying engagement score fell below their level's lower boundary
    (``engaged`` → ``at_risk`` → ``dormant``); ``score`` is the score at that moment."""

    member_id: int
    from_level: str
    to_level: str
    score: float
