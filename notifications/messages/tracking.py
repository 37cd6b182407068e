"""What members do with their messages: opens, clicks, unsubscribes, and what providers report.

An open or a click is recorded once: the first instant stays, later ones change nothing. Each first
one records ``MessageOpened`` / ``MessageClicked`` (the engagement score moves) and wakes the journey
whose branch waits for that reaction, so it decides at once instead of at its deadline. A reaction to
the in-app copy of a message counts for the message itself too: the member read what they were sent,
and the KPIs count the messages sent, not their copies.

Tracking links are signed (:class:`~notifications.messages.links.Links`): a token names a message by
its send key, a member and a channel for an unsubscribe link, and a click's target URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import rowcount
from loyalty.errors import Conflict, NotFound
from loyalty.members.models import Member
from loyalty.members.operations import update_member
from notifications.events import MessageClicked, MessageOpened
from notifications.journeys import triggers
from notifications.messages.links import Links
from notifications.messages.models import Message

#: What a provider may report about a message it took.
PROVIDER_STATUSES = ("delivered", "failed", "bounced", "opened", "clicked")
#: The channels that go through a provider: providers report on them, members consent to each (an
#: unsubscribe link withdraws one; the in-app copy's link names email).
PROVIDER_CHANNELS = ("email", "sms", "push")


def record_open(session: Session, message: Message, *, now: datetime) -> bool:
    """The member opened ``message`` (read it in the app, loaded the email's pixel, tapped the push);
    returns whether it is the first open."""
    if message.sent_at is None or not _first(session, message, "opened_at", now):
        return False
    outbox.record(session, MessageOpened(occurred_at=now, **_event_fields(message)))
    _wake(session, message, "opened", now)
    return True


def record_click(session: Session, message: Message, *, now: datetime) -> bool:
    """The member followed a link of ``message`` (which opened it, if nothing said so yet); returns
    whether it is the first click."""
    record_open(session, message, now=now)
    if message.sent_at is None or not _first(session, message, "clicked_at", now):
        return False
    outbox.record(session, MessageClicked(occurred_at=now, **_event_fields(message)))
    _wake(session, message, "clicked", now)
    return True


def _first(session: Session, message: Message, moment: str, now: datetime) -> bool:
    """Set ``moment`` (``opened_at``, ``clicked_at``) unless it is set: a guarded update, so of two
    concurrent opens only one counts. An in-app copy's original gets it too if it has none."""
    column = getattr(Message, moment)
    applied = rowcount(session.execute(
        update(Message).where(Message.id == message.id, column.is_(None)).values({moment: now})
    ))
    if applied and message.copy_of_id is not None:
        session.execute(update(Message).where(Message.id == message.copy_of_id, column.is_(None)).values({moment: now}))
    return bool(applied)


class _EventFields(TypedDict):
    """What ``MessageOpened`` and ``MessageClicked`` say of the message."""

    member_id: int
    message_id: int
    channel: str
    scenario: str | None


def _event_fields(message: Message) -> _EventFields:
    return {
        "member_id": message.member_id,
        "message_id": message.id,
        "channel": message.channel,
        "scenario": message.scenario_key,
    }


def _wake(session: Session, message: Message, reaction: str, now: datetime) -> None:
    if message.journey_id is not None:
        triggers.wake(session, reaction=reaction, journey_id=message.journey_id, now=now)


def message_by_send_key(session: Session, send_key: str) -> Message:
    message = session.scalar(select(Message).where(Message.send_key == send_key))
    if message is None:
        raise NotFound("this link is not valid", field="token")
    return message


def open_link(session: Session, links: Links, token: str, *, now: datetime) -> Message:
    """The open pixel of an email was loaded."""
    message = message_by_send_key(session, links.read("open", token))
    record_open(session, message, now=now)
    return message


def click_link(session: Session, links: Links, token: str, *, now: datetime) -> str:
    """A tracked link was followed: records the click; returns the URL signed in the token."""
    send_key, url = links.read("click", token)
    record_click(session, message_by_send_key(session, send_key), now=now)
    return str(url)


@dataclass(frozen=True)
class Unsubscription:
    member_id: int
    channel: str


def read_unsubscribe_link(session: Session, links: Links, token: str) -> Unsubscription:
    """The member and the channel an unsubscribe link names (checked to exist)."""
    member_id, channel = links.read("unsubscribe", token)
    if channel not in PROVIDER_CHANNELS or session.get(Member, member_id) is None:
        raise NotFound("this link is not valid", field="token")
    return Unsubscription(member_id=member_id, channel=channel)


def unsubscribe(session: Session, links: Links, token: str, *, now: datetime) -> Unsubscription:
    """Withdraw the consent an unsubscribe link names (``MemberUpdated`` is recorded as for any
    change of consent); following the link again changes nothing."""
    target = read_unsubscribe_link(session, links, token)
    update_member(session, target.member_id, {"consents": {target.channel: False}}, now=now)
    return target


@dataclass(frozen=True)
class ProviderReport:
    """A provider's delivery report: the message (by the provider's reference or our send key), what
    happened and when."""

    channel: str
    status: str
    #: When it happened (the provider's clock); None: now.
    at: datetime | None = None
    provider_ref: str | None = None
    send_key: str | None = None
    reason: str | None = None


def record_provider_report(session: Session, report: ProviderReport, *, now: datetime) -> Message:
    """Apply a delivery report: ``delivered`` sets the delivery time, ``failed``/``bounced`` make the
    message a dead letter (a permanent failure), ``opened``/``clicked`` count as the member's own.

    A report said again changes nothing. A report on a message not sent yet is a conflict: the
    provider retries it once the send is recorded.
    """
    if report.channel not in PROVIDER_CHANNELS:
        raise NotFound(f"no delivery reports for {report.channel!r}", field="channel")
    query = select(Message).where(Message.channel == report.channel)
    if report.send_key is not None:
        query = query.where(Message.send_key == report.send_key)
    else:
        query = query.where(Message.provider_ref == report.provider_ref).order_by(Message.id.desc()).limit(1)
    message = session.scalar(query)
    if message is None:
        field = "send_key" if report.send_key is not None else "provider_ref"
        raise NotFound(f"no {report.channel} message has this {field}", field=field)
    if message.status not in ("sent", "delivered", "dead"):
        raise Conflict(f"the message is {message.status}, not sent yet; report it again later")
    at = min(report.at or now, now)
    if report.status == "delivered":
        if message.status == "sent":
            message.status = "delivered"
            message.delivered_at = at
    elif report.status in ("failed", "bounced"):
        if message.status != "dead":
            message.status = "dead"
            message.failed_at = at
            message.reason = f"{report.status}: {report.reason}"[:200] if report.reason else report.status
    elif report.status == "opened":
        record_open(session, message, now=at)
    else:
        record_click(session, message, now=at)
    session.flush()
    return message
