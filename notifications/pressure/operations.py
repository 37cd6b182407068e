"""Pressure use cases: the settings, blackout periods, complaints, and the situation of a message."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.members.models import Member
from notifications.messages.models import Message
from notifications.pressure.models import BlackoutPeriod, Complaint, PressureSettings
from notifications.pressure.rules import Situation

DEFAULTS: dict[str, Any] = {
    "cap_messages": 3,
    "cap_days": 7,
    "quiet_start": time(21, 0),
    "quiet_end": time(8, 0),
    "max_attempts": 6,
}


def get_pressure_settings(session: Session) -> PressureSettings:
    settings = session.get(PressureSettings, 1)
    if settings is None:
        raise NotFound("the program has no pressure settings; run `loyalty init`")
    return settings


def save_pressure_settings(session: Session, changes: dict[str, Any], *, now: datetime) -> PressureSettings:
    """Create or change the pressure settings (defaults: 3 marketing messages per 7 days, quiet
    21:00-08:00, 6 delivery attempts)."""
    settings = session.get(PressureSettings, 1)
    if settings is None:
        settings = PressureSettings(id=1, **DEFAULTS, updated_at=now)
        session.add(settings)
    for name, value in changes.items():
        setattr(settings, name, time.fromisoformat(value) if isinstance(value, str) else value)
    settings.updated_at = now
    session.flush()
    return settings


def list_blackouts(session: Session) -> list[BlackoutPeriod]:
    return list(session.scalars(select(BlackoutPeriod).order_by(BlackoutPeriod.starts_at, BlackoutPeriod.id)))


def add_blackout(session: Session, *, name: str, starts_at: datetime, ends_at: datetime) -> BlackoutPeriod:
    """Pause marketing scenarios between two instants (a big sale)."""
    if ends_at <= starts_at:
        raise InvalidOperation("the end must come after the start", field="ends_at")
    period = BlackoutPeriod(name=name, starts_at=starts_at, ends_at=ends_at)
    session.add(period)
    session.flush()
    return period


def delete_blackout(session: Session, blackout_id: int) -> None:
    period = session.get(BlackoutPeriod, blackout_id)
    if period is None:
        raise NotFound(f"blackout period {blackout_id} does not exist", field="blackout_id")
    session.delete(period)
    session.flush()


def blackout_end(session: Session, now: datetime) -> datetime | None:
    """The end of the blackout ``now`` falls in (the latest, when periods overlap), or None."""
    return session.scalar(
        select(func.max(BlackoutPeriod.ends_at)).where(BlackoutPeriod.starts_at <= now, BlackoutPeriod.ends_at > now)
    )


def open_complaint(session: Session, member_id: int, *, subject: str, note: str, now: datetime) -> Complaint:
    """Record a member's complaint: no marketing reaches them until it is closed."""
    if session.get(Member, member_id) is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    complaint = Complaint(member_id=member_id, subject=subject, note=note, opened_at=now)
    session.add(complaint)
    session.flush()
    return complaint


def close_complaint(session: Session, complaint_id: int, *, now: datetime) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"complaint {complaint_id} does not exist", field="complaint_id")
    if complaint.closed_at is not None:
        raise Conflict("this complaint is closed already", field="complaint_id")
    complaint.closed_at = now
    session.flush()
    return complaint


def member_complaints(session: Session, member_id: int) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(Complaint.member_id == member_id).order_by(Complaint.id)))


def situation_of(
    session: Session,
    message: Message,
    member: Member,
    settings: PressureSettings,
    *,
    has_consent: bool,
    blackout_until: datetime | None,
    now: datetime,
) -> Situation:
    """What the pressure rules need to judge ``message`` now (``blackout_until``: :func:`blackout_end`,
    read once per batch)."""
    complaint = session.scalar(
        select(Complaint.id).where(Complaint.member_id == member.id, Complaint.closed_at.is_(None)).limit(1)
    )
    since = now - timedelta(days=settings.cap_days)
    recent = session.scalar(
        select(func.count(Message.id)).where(
            Message.member_id == member.id,
            Message.is_marketing.is_(True),
            Message.copy_of_id.is_(None),
            Message.id != message.id,
            or_(Message.sent_at >= since, Message.status == "sending"),
        )
    )
    return Situation(
        is_marketing=message.is_marketing,
        channel=message.channel,
        has_consent=has_consent,
        has_open_complaint=complaint is not None,
        blackout_until=blackout_until,
        recent_marketing=recent or 0,
        cap_messages=settings.cap_messages,
        timezone=member.timezone,
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
    )
