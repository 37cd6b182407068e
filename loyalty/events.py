"""Domain events: past-tense facts recorded in the same transaction as the change (design rule 4).

Each event is written to the outbox by :func:`loyalty.outbox.record` and handed, in the same
transaction, to the in-process handlers subscribed to it. Messages and webhooks are produced from the
outbox after commit, so nothing is sent for a change that rolled back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every event; ``name`` is the stable type stored in the outbox."""

    name: ClassVar[str]
    occurred_at: datetime
    member_id: int | None = None

    def payload(self) -> dict[str, Any]:
        """The event as JSON-ready data (datetimes as ISO-8601, amounts as strings)."""
        return {key: _jsonable(value) for key, value in asdict(self).items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
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
class PurchaseRecorded(DomainEvent):
    """A till, the web shop or the app recorded a purchase; ``member_id`` is None until claimed."""

    name: ClassVar[str] = "PurchaseRecorded"
    purchase_id: int
    store_code: str
    channel: str
    total: Decimal
    currency: str
    is_first_purchase: bool = False


@dataclass(frozen=True, kw_only=True)
class PurchaseClaimed(DomainEvent):
    """A member attached an anonymous purchase to their account after the fact."""

    name: ClassVar[str] = "PurchaseClaimed"
    member_id: int
    purchase_id: int


@dataclass(frozen=True, kw_only=True)
class PurchaseReturned(DomainEvent):
    """Goods of a purchase came back; carries the amount returned by this return."""

    name: ClassVar[str] = "PurchaseReturned"
    purchase_id: int
    return_id: int
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class PointsEarned(DomainEvent):
    """Points were credited (purchase, bonus or positive adjustment); carries the new balance."""

    name: ClassVar[str] = "PointsEarned"
    member_id: int
    points: int
    balance: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class PointsDebited(DomainEvent):
    """Points were taken away (reversal, redemption, expiry or negative adjustment)."""

    name: ClassVar[str] = "PointsDebited"
    member_id: int
    points: int
    balance: int
    reason: str
