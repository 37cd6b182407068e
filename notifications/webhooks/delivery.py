"""Webhook deliveries: queued from the outbox after commit, sent by the workers.

1. The outbox consumer ``webhooks`` (:func:`queue_deliveries`) turns each committed event into one
   delivery per active subscription that wants it, in the consumer's transaction: exactly once per
   event, and nothing for a change that rolled back (its event never reached the outbox).
2. A worker (:func:`notifications.webhooks.tasks.send_due`, in every pass of ``loyalty run-due``) claims due deliveries with a lease
   (``SKIP LOCKED``) and sends a few at once, one per member and subscription at a time: a member's later delivery waits
   while an earlier one is pending or being retried, so a receiver sees each member's events in order.
3. It posts them outside any transaction, signed, with a bounded time-out, then records the outcome in
   one short transaction: received (any 2xx); or a retry after an exponential backoff with jitter; or,
   after the last attempt, a dead letter (redriven through the admin API). A subscription whose
   deliveries keep going to the dead letters is paused, with the reason, an audit entry and a warning.

A worker killed between 2 and 3 leaves ``sending`` deliveries whose lease runs out: another worker
sends them again, with the same event id, which receivers deduplicate on (at least once).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from loyalty import audit
from loyalty.consumers import Delivered
from loyalty.db import dialect_insert
from notifications.channels.webhook import ThreadSessions
from notifications.webhooks.addresses import AddressRefused, GuardedAdapter
from notifications.webhooks.models import EVERY_EVENT, OPEN_STATUSES, WebhookDelivery, WebhookSubscription
from notifications.webhooks.signing import body, signature

logger = logging.getLogger(__name__)

#: The actor of the audit entry written when a failing subscription is paused.
PAUSING_ACTOR = "scheduler"


@dataclass(frozen=True)
class WebhookSettings:
    """How webhooks are sent (``LOYALTY_WEBHOOK_*``, docs/operations.md)."""

    #: Plain http and private, loopback and link-local addresses allowed (development, tests).
    allow_private: bool = False
    #: Seconds to connect, and to wait for each part of the answer.
    timeout: float = 10.0
    #: Attempts before a delivery is given up (a dead letter).
    max_attempts: int = 10
    #: The first retry waits about this long, each next one twice as long (with jitter), up to ``retry_cap``.
    retry_base: timedelta = timedelta(minutes=1)
    retry_cap: timedelta = timedelta(hours=6)
    #: A subscription pauses after this many deliveries in a row went to the dead letters.
    pause_after_dead: int = 5
    #: Deliveries a worker sends at once (to different members or subscriptions), so that one slow
    #: receiver does not hold up the others for a whole batch of time-outs.
    concurrency: int = 8
    #: How long a worker may hold a delivery it is sending before another takes it over: longer than
    #: a batch takes when every request times out.
    lease: timedelta = timedelta(minutes=5)


def retry_delay(settings: WebhookSettings, attempts: int, *, jitter: float | None = None) -> timedelta:
    """The wait after failed attempt number ``attempts``: ``retry_base`` × 2^(attempts−1), capped, of
    which a random half is taken off (``jitter`` in [0, 1): how much of that half), so receivers that
    recover are not hit by every retry at once."""
    full = min(settings.retry_base * 2 ** (attempts - 1), settings.retry_cap)
    share = random.random() if jitter is None else jitter
    return full - full / 2 * share


def queue_deliveries(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
    """The ``webhooks`` consumer: one delivery per event and active subscription that wants it."""
    subscriptions = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.event_types).where(WebhookSubscription.is_active.is_(True))
    ).all()
    rows = [
        {
            "subscription_id": subscription_id,
            "event_id": delivered.id,
            "event_type": delivered.event.name,
            "member_id": delivered.event.member_id,
            "occurred_at": delivered.event.occurred_at,
            "data": delivered.event.payload(),
            "status": "pending",
            "attempts": 0,
            "due_at": now,
            "created_at": now,
        }
        for delivered in batch
        for subscription_id, event_types in subscriptions
        if EVERY_EVENT in event_types or delivered.event.name in event_types
    ]
    if rows:
        insert = dialect_insert(session)(WebhookDelivery.__table__)
        session.execute(insert.on_conflict_do_nothing(index_elements=["subscription_id", "event_id"]), rows)


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this worker, with what it needs to send it outside the transaction."""

    delivery_id: int
    attempts: int
    url: str
    event_id: int
    event_type: str
    body: bytes
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """What the receiver did with one attempt."""

    status_code: int | None
    error: str | None

    @property
    def received(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """Posts signed deliveries over HTTP (requests, as the message channels), connecting only to
    allowed addresses (:class:`GuardedAdapter`), ignoring proxy settings and not following redirects."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self._sessions = ThreadSessions(self._session)

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # a proxy from the environment would connect in our stead
        adapter = GuardedAdapter(allow_private=self.settings.allow_private)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def send(self, item: Claimed, *, timestamp: int) -> Outcome:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "loyalty-webhooks/1",
            "Loyalty-Event-Id": str(item.event_id),
            "Loyalty-Event-Type": item.event_type,
            "Loyalty-Signature": signature(item.body, timestamp=timestamp, secrets_=item.secrets),
        }
        try:
            with self._sessions.get().post(
                item.url, data=item.body, headers=headers, timeout=self.settings.timeout, allow_redirects=False,
                stream=True,
            ) as response:  # fmt: skip
                answer = response.raw.read(200, decode_content=True).decode(errors="replace")
        except requests.RequestException as error:
            return Outcome(None, _reason(error))
        if 200 <= response.status_code < 300:
            return Outcome(response.status_code, None)
        return Outcome(response.status_code, f"answered {response.status_code}: {answer}".strip())


def _reason(error: requests.RequestException) -> str:
    """A short reason for the log: refused address, time-out, or the connection's error."""
    cause: object = error
    for _ in range(10):  # requests wraps urllib3's error, which wraps the connection's
        if isinstance(cause, AddressRefused):
            return f"address refused: {cause.detail}"
        if not isinstance(cause, BaseException):
            break
        reason = getattr(cause, "reason", None)
        cause = reason if isinstance(reason, BaseException) else cause.__context__
    if isinstance(error, requests.Timeout):
        return f"timed out: {error}"
    return f"unreachable: {error}"


def claim(session: Session, settings: WebhookSettings, *, now: datetime, limit: int) -> list[Claimed]:
    """Lease the due deliveries of active subscriptions whose member has no earlier one open."""
    earlier = aliased(WebhookDelivery)
    due = session.execute(
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.due_at <= now,
            WebhookSubscription.is_active.is_(True),
            ~exists().where(
                and_(
                    earlier.subscription_id == WebhookDelivery.subscription_id,
                    earlier.member_id == WebhookDelivery.member_id,
                    earlier.id < WebhookDelivery.id,
                    earlier.status.in_(OPEN_STATUSES),
                )
            ),
        )
        .order_by(WebhookDelivery.due_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).all()
    claimed = []
    for delivery, subscription in due:
        delivery.status = "sending"
        delivery.attempts += 1
        delivery.due_at = now + settings.lease
        secrets = [subscription.secret]
        if subscription.previous_secret and subscription.previous_secret_until and subscription.previous_secret_until > now:
            secrets.append(subscription.previous_secret)
        payload = body(
            event_id=delivery.event_id, event_type=delivery.event_type, occurred_at=delivery.occurred_at, data=delivery.data
        )
        claimed.append(
            Claimed(delivery.id, delivery.attempts, subscription.url, delivery.event_id, delivery.event_type, payload, tuple(secrets))
        )
    session.flush()
    return claimed


def record_outcome(session: Session, settings: WebhookSettings, item: Claimed, outcome: Outcome, *, now: datetime) -> None:
    """Received; or retried later; or, after the last attempt, dead (and the subscription paused if
    that makes too many in a row)."""
    delivery = session.get(WebhookDelivery, item.delivery_id)
    if delivery is None or delivery.status != "sending" or delivery.attempts != item.attempts:
        return  # deleted, or taken over by another worker after our lease ran out: its outcome stands
    subscription = session.get_one(WebhookSubscription, delivery.subscription_id)
    delivery.last_attempt_at = now
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error[:300] if outcome.error else None
    if outcome.received:
        delivery.status = "delivered"
        delivery.due_at = None
        delivery.delivered_at = now
        if subscription.dead_in_row:
            subscription.dead_in_row = 0
        return
    if delivery.attempts < settings.max_attempts:
        delivery.status = "pending"
        delivery.due_at = now + retry_delay(settings, delivery.attempts)
        return
    delivery.status = "dead"
    delivery.due_at = None
    subscription.dead_in_row += 1
    logger.warning("webhook delivery %d (event %d) to the dead letters: %s", delivery.id, delivery.event_id, delivery.last_error)
    if subscription.is_active and subscription.dead_in_row >= settings.pause_after_dead:
        session.flush()
        _pause(session, subscription, f"{subscription.dead_in_row} deliveries in a row went to the dead letters; last: {delivery.last_error}", now=now)


def _pause(session: Session, subscription: WebhookSubscription, reason: str, *, now: datetime) -> None:
    """Pause a failing subscription: its deliveries wait until an admin resumes it. Audited, logged."""
    audit.act_as(session, PAUSING_ACTOR, now=now)
    subscription.is_active = False
    subscription.paused_reason = reason[:1000]
    subscription.paused_at = now
    subscription.updated_at = now
    session.flush()
    logger.warning("webhook subscription %d (%s) paused: %s", subscription.id, subscription.url, reason)
