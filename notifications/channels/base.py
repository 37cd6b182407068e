"""What every channel implements: deliver one rendered message, or say why it could not.

Scenarios decide *what* to say; a channel decides *how* it reaches the member. The delivery worker
hands a channel an :class:`Envelope` (everything already rendered and addressed) and records the
:class:`Delivery` it gets back. A channel raises :class:`DeliveryFailed` when the provider refused or
could not be reached; ``permanent`` failures (a bad address, an expired push subscription) are not
retried, the others are retried with backoff until they become dead letters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: The channels a message can go through, in the order used after the member's preferred one.
CHANNELS = ("email", "sms", "push", "in_app")


@dataclass(frozen=True, kw_only=True)
class PushTarget:
    """One of a member's push subscriptions: a browser (Web Push) or a device token (webhook provider)."""

    id: int
    kind: str  # "webpush" | "device"
    endpoint: str = ""
    p256dh: str = ""
    auth: str = ""
    token: str = ""


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """A message ready to go: rendered for its channel and addressed."""

    #: Stable for the message across attempts: the provider's idempotency key, the email's Message-ID.
    send_key: str
    channel: str
    member_id: int
    #: The email address or the phone number; empty for push and in-app.
    recipient: str
    subject: str
    text: str
    html: str | None = None
    push_targets: tuple[PushTarget, ...] = ()
    #: Extra email headers (List-Unsubscribe, List-Unsubscribe-Post).
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Data for the app with a push (the message id, a deep link).
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """What the provider answered: its own reference of the message, for delivery webhooks."""

    provider_ref: str | None = None
    #: Push subscriptions the provider reported gone (HTTP 404/410): the worker deletes them.
    expired_targets: tuple[int, ...] = ()


class DeliveryFailed(Exception):
    """The provider did not take the message; ``permanent`` when trying again cannot help.

    ``expired_targets`` names push subscriptions found gone on the way, as in :class:`Delivery`: a push
    whose every subscription is gone fails, and the worker still deletes them.
    """

    def __init__(self, reason: str, *, permanent: bool = False, expired_targets: tuple[int, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.expired_targets = expired_targets


class Channel(Protocol):
    """A way of reaching a member."""

    name: str

    def send(self, envelope: Envelope) -> Delivery: ...
