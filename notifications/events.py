"""The facts of ``notifications``: what members do with the messages sent to them
(:class:`loyalty.events.DomainEvent`)."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class MessageOpened(DomainEvent):
    """A member opened a message (an email, a push notification, an in-app message)."""

    member_id: int
    message_id: int
    channel: str
    #: The code of the scenario that sent it; None for a message sent outside scenarios.
    scenario: str | None


@dataclass(frozen=True, kw_only=True)
class MessageClicked(DomainEvent):
    """A member followed a link of a message."""

    member_id: int
    message_id: int
    channel: str
    scenario: str | None
