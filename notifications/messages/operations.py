"""Message use cases for the API: listings (a member's messages, dead letters), the in-app inbox,
redriving a dead letter and members' push subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from loyalty.db import insert_if_absent
from loyalty.errors import Conflict, NotFound
from notifications.messages import delivery
from notifications.messages.models import Message, PushSubscription
from notifications.messages.tracking import record_open

STATUSES = ("held", "queued", "sending", "sent", "delivered", "suppressed", "dead")


@dataclass(frozen=True)
class MessagePage:
    """Messages newest first; ``next_before`` is the cursor of the next page (None on the last)."""

    items: list[Message]
    next_before: int | None


def _page(session: Session, query: Select[Message], *, limit: int, before: int | None) -> MessagePage:
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    return MessagePage(items=rows, next_before=rows[-1].id if has_more else None)


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    scenario_key: str | None = None,
    member_id: int | None = None,
    limit: int = 50,
    before: int | None = None,
) -> MessagePage:
    """Every message, newest first, or those with ``status`` (``dead``: the dead letters), on
    ``channel``, of the scenario ``scenario_key``, to the member ``member_id``."""
    query = select(Message)
    for column, value in (
        (Message.status, status), (Message.channel, channel), (Message.scenario_key, scenario_key),
        (Message.member_id, member_id),
    ):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    return _page(session, query, limit=limit, before=before)


def member_messages(session: Session, member_id: int, *, limit: int = 50, before: int | None = None) -> MessagePage:
    """A member's messages on every channel (in-app copies included), newest first."""
    return _page(session, select(Message).where(Message.member_id == member_id), limit=limit, before=before)


def get_message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"message {message_id} does not exist", field="message_id")
    return message


def redrive_message(session: Session, message_id: int, *, now: datetime) -> Message:
    """Queue a dead letter again (after its provider was fixed); any other message is a conflict."""
    message = get_message(session, message_id)
    if message.status != "dead":
        raise Conflict(f"message {message_id} is {message.status}, not dead", field="message_id")
    return delivery.redrive(session, message_id, now=now)


def _inbox_query(member_id: int) -> Select[Message]:
    """What the app shows: the member's in-app messages that are delivered (on their own, or as the
    copy of a message sent on another channel)."""
    return select(Message).where(
        Message.member_id == member_id, Message.channel == "in_app", Message.status == "delivered"
    )


@dataclass(frozen=True)
class Inbox(MessagePage):
    unread: int


def inbox(session: Session, member_id: int, *, limit: int = 50, before: int | None = None) -> Inbox:
    """A page of the member's in-app inbox, newest first, and how many of all are unread."""
    page = _page(session, _inbox_query(member_id), limit=limit, before=before)
    unread = session.scalar(
        _inbox_query(member_id).where(Message.opened_at.is_(None)).with_only_columns(func.count(Message.id))
    )
    return Inbox(items=page.items, next_before=page.next_before, unread=unread or 0)


def read_inbox_message(session: Session, member_id: int, message_id: int, *, now: datetime) -> Message:
    """The member read a message of their inbox: it counts as an open (the first time)."""
    message = session.scalar(_inbox_query(member_id).where(Message.id == message_id))
    if message is None:
        raise NotFound(f"your inbox has no message {message_id}", field="message_id")
    record_open(session, message, now=now)
    return message


def report_opened(session: Session, member_id: int, message_id: int, *, now: datetime) -> Message:
    """The app reports that the member opened a message sent to them (a push tapped)."""
    message = session.scalar(select(Message).where(Message.id == message_id, Message.member_id == member_id))
    if message is None or message.sent_at is None:
        raise NotFound(f"no message {message_id} was sent to you", field="message_id")
    record_open(session, message, now=now)
    return message


def subscribe_push(
    session: Session, member_id: int, fields: dict[str, Any], *, now: datetime
) -> tuple[PushSubscription, bool]:
    """Register a browser (``webpush``: endpoint and keys) or a device (``device``: its token) for the
    member's pushes; returns it and whether it is new.

    Registering the same endpoint or token again is harmless: it now belongs to the member who
    registered it last (a shared device, another account logged in) with the keys given last.
    """
    kind = fields["kind"]
    keys = fields.get("keys", {})
    values = {
        "member_id": member_id,
        "kind": kind,
        "address": fields["endpoint"] if kind == "webpush" else fields["token"],
        "p256dh": keys.get("p256dh", ""),
        "auth": keys.get("auth", ""),
    }
    created = insert_if_absent(session, PushSubscription, {**values, "created_at": now}, key=["address"])
    if created is None:
        session.execute(
            update(PushSubscription).where(PushSubscription.address == values["address"]).values(**values),
            execution_options={"synchronize_session": False},
        )
    subscription = session.scalars(
        select(PushSubscription)
        .where(PushSubscription.address == values["address"])
        .execution_options(populate_existing=True)
    ).one()
    return subscription, created is not None


def unsubscribe_push(session: Session, member_id: int, subscription_id: int) -> None:
    """Forget one of the member's push subscriptions (a logout on that device)."""
    subscription = session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.member_id != member_id:
        raise NotFound(f"you have no push subscription {subscription_id}", field="subscription_id")
    session.delete(subscription)
    session.flush()
