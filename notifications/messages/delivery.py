"""Delivering due messages: judge, claim, send outside any transaction, record the outcome.

1. One transaction claims due messages (``SKIP LOCKED``), applies the pressure rules (suppress, or
   defer with the reason) and marks the rest ``sending`` with a lease; in-app messages are delivered
   right there (storing them is their delivery).
2. Each message goes to its channel, outside any transaction.
3. One short transaction per message records the outcome: ``sent``; or, on failure, a retry after an
   exponential backoff, a dead letter after the program's maximum of attempts, or at once for a
   permanent refusal.

A worker killed between 1 and 3 leaves ``sending`` rows whose lease runs out: another worker takes
them over and sends them again. That is the one window where a message can go twice; the provider
gets the same idempotency key (the message's send key, also the email's Message-ID) both times, so
providers that honour it deliver once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from loyalty.members.models import Member
from notifications.channels.base import Delivery, DeliveryFailed, Envelope, PushTarget
from notifications.journeys.models import Journey
from notifications.messages.compose import has_consent
from notifications.messages.models import Message, PushSubscription
from notifications.pressure.operations import (
    blackout_end,
    get_pressure_settings,
    situation_of,
)
from notifications.pressure.rules import judge
from notifications.runtime import Runtime

#: The reason of a letter cleared by the pressure rules, waiting for the postal export.
POSTAL_READY = "awaiting the postal export"


@dataclass(frozen=True)
class Claimed:
    message_id: int
    envelope: Envelope
    attempts: int


def claim(session: Session, runtime: Runtime, *, now: datetime, limit: int) -> tuple[list[Claimed], int]:
    """Judge the due messages and lease the ones to send; returns them and how many were looked at."""
    due = list(
        session.scalars(
            select(Message)
            .where(
                or_(
                    and_(Message.status == "queued", Message.due_at <= now),
                    and_(Message.status == "sending", Message.lease_until <= now),
                )
            )
            .order_by(Message.due_at, Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    settings = get_pressure_settings(session)
    blackout = blackout_end(session, now)
    claimed = []
    for message in due:
        member = session.get_one(Member, message.member_id)
        situation = situation_of(
            session,
            message,
            member,
            settings,
            has_consent=has_consent(member, message.channel),
            blackout_until=blackout,
            now=now,
        )
        verdict = judge(situation, now)
        if verdict.action == "suppress":
            _finish(session, message, "suppressed", verdict.reason, now=now)
        elif verdict.action == "defer":
            message.due_at = verdict.until
            message.reason = verdict.reason
        elif message.channel == "in_app":
            _finish(session, message, "delivered", None, now=now)
        elif message.channel == "postal":
            # Cleared to go: it waits, out of the due index, for the next postal export.
            message.due_at = None
            message.reason = POSTAL_READY
        else:
            message.status = "sending"
            message.lease_until = now + runtime.lease
            message.attempts += 1
            claimed.append(Claimed(message.id, _envelope(session, message), message.attempts))
        session.flush()
    return claimed, len(due)


def record_sent(session: Session, item: Claimed, delivery: Delivery, *, now: datetime) -> None:
    """The provider took the message: ``sent``, its in-app copy delivered, its journey counts it."""
    message = session.get_one(Message, item.message_id)
    if message.status != "sending" or message.attempts != item.attempts:
        return  # another worker took the message over after our lease ran out; its outcome stands
    message.provider_ref = delivery.provider_ref
    _finish(session, message, "sent", None, now=now)
    _forget_push_targets(session, delivery.expired_targets)


def _forget_push_targets(session: Session, target_ids: tuple[int, ...]) -> None:
    """Delete the push subscriptions the provider reported gone."""
    if target_ids:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(target_ids)))


def record_failure(session: Session, runtime: Runtime, item: Claimed, failure: DeliveryFailed, *, now: datetime) -> None:
    """Retry later (exponential backoff), or give the message up as a dead letter."""
    message = session.get_one(Message, item.message_id)
    if message.status != "sending" or message.attempts != item.attempts:
        return
    message.reason = failure.reason[:200]
    message.failed_at = now
    _forget_push_targets(session, failure.expired_targets)
    if failure.permanent or message.attempts >= get_pressure_settings(session).max_attempts:
        _finish(session, message, "dead", message.reason, now=now)
        return
    message.status = "queued"
    message.lease_until = None
    message.due_at = now + retry_delay(runtime, message.attempts)


def redrive(session: Session, message_id: int, *, now: datetime) -> Message:
    """Queue a dead letter again, with a fresh count of attempts (after the provider was fixed)."""
    message = session.get_one(Message, message_id)
    message.status = "queued"
    message.attempts = 0
    message.due_at = now
    message.lease_until = None
    session.execute(
        update(Message).where(Message.copy_of_id == message.id).values(status="held", reason=None),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return message


def finish_postal(session: Session, message: Message, *, now: datetime) -> None:
    """A letter handed to the mailing house: sent (its in-app copy delivered)."""
    _finish(session, message, "sent", None, now=now)


def _finish(session: Session, message: Message, status: str, reason: str | None, *, now: datetime) -> None:
    message.status = status
    message.reason = reason
    message.lease_until = None
    message.due_at = None
    if status in ("sent", "delivered"):
        first_sending = message.sent_at is None  # a re-driven message was counted the first time
        message.sent_at = now
        if status == "delivered":
            message.delivered_at = now
        if first_sending and message.journey_id is not None and message.copy_of_id is None:
            session.execute(
                update(Journey).where(Journey.id == message.journey_id).values(messages_sent=Journey.messages_sent + 1),
                execution_options={"synchronize_session": False},
            )
    copy_status = "delivered" if status in ("sent", "delivered") else "suppressed"
    session.execute(
        update(Message)
        .where(Message.copy_of_id == message.id, Message.status == "held")
        .values(
            status=copy_status,
            reason=None if copy_status == "delivered" else f"original {status}",
            sent_at=now if copy_status == "delivered" else None,
            delivered_at=now if copy_status == "delivered" else None,
        ),
        execution_options={"synchronize_session": False},
    )


def _envelope(session: Session, message: Message) -> Envelope:
    targets: tuple[PushTarget, ...] = ()
    if message.channel == "push":
        targets = tuple(
            PushTarget(
                id=sub.id,
                kind=sub.kind,
                endpoint=sub.address if sub.kind == "webpush" else "",
                token=sub.address if sub.kind == "device" else "",
                p256dh=sub.p256dh,
                auth=sub.auth,
            )
            for sub in session.scalars(select(PushSubscription).where(PushSubscription.member_id == message.member_id).order_by(PushSubscription.id))
        )
    headers = {}
    unsubscribe = message.data.get("unsubscribe")
    if message.channel == "email" and unsubscribe:
        headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return Envelope(
        send_key=message.send_key,
        channel=message.channel,
        member_id=message.member_id,
        recipient=message.recipient,
        subject=message.subject,
        text=message.body_text if message.channel == "email" else message.body_short,
        html=message.body_html,
        push_targets=targets,
        headers=headers,
        data={"message_id": message.id, "template": message.template_key},
    )


def retry_delay(runtime: Runtime, attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 1, 2, 4, 8… times the base."""
    return runtime.retry_base * 2 ** (attempts - 1)
