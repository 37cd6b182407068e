"""The pressure rules as plain functions: what to do with a message about to be sent, and why.

Order (the first that applies decides): an open complaint or a withdrawn consent suppresses a
marketing message; a blackout defers it to the blackout's end; the global cap suppresses it; quiet
hours in the member's timezone defer it to their end. Transactional messages pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Verdict:
    """``send``, ``suppress`` or ``defer`` (until ``until``), with the reason recorded on the message."""

    action: str
    reason: str | None = None
    until: datetime | None = None


SEND = Verdict("send")


@dataclass(frozen=True)
class Situation:
    """What the rules look at, read by the delivery worker for one message."""

    is_marketing: bool
    channel: str
    has_consent: bool
    has_open_complaint: bool
    #: The end of the blackout period ``now`` falls in, if any.
    blackout_until: datetime | None
    #: Marketing messages sent to the member within the cap's window, this one excluded.
    recent_marketing: int
    cap_messages: int
    timezone: str
    quiet_start: time
    quiet_end: time


def judge(situation: Situation, now: datetime) -> Verdict:
    """The verdict on sending now."""
    if not situation.is_marketing:
        return SEND
    if situation.has_open_complaint:
        return Verdict("suppress", "open_complaint")
    if not situation.has_consent:
        return Verdict("suppress", "no_consent")
    if situation.blackout_until is not None:
        return Verdict("defer", "blackout", situation.blackout_until)
    if situation.recent_marketing >= situation.cap_messages:
        return Verdict("suppress", "pressure_cap")
    if situation.channel != "in_app":
        quiet_until = end_of_quiet_hours(now, situation.timezone, situation.quiet_start, situation.quiet_end)
        if quiet_until is not None:
            return Verdict("defer", "quiet_hours", quiet_until)
    return SEND


def end_of_quiet_hours(now: datetime, timezone: str, start: time, end: time) -> datetime | None:
    """When the quiet hours ``now`` falls in end (UTC), or None outside them.

    Local wall-clock times, so the answer follows daylight saving time: an end at 08:00 is 08:00 on
    the member's clock whichever offset applies that day. An end that falls in a gap (the clocks skip
    it) is the first instant after the gap.
    """
    if start == end:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    spans_midnight = start > end
    inside = (clock >= start or clock < end) if spans_midnight else (start <= clock < end)
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if spans_midnight and clock >= start else local.date()
    return _wall_clock_to_utc(end_day, end, zone)


def _wall_clock_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    naive = datetime.combine(day, at)
    candidate = naive.replace(tzinfo=zone)
    # A wall-clock time that does not exist (spring forward) maps back to a different one.
    if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        candidate = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return candidate.astimezone(UTC)


def next_local_time(after: datetime, timezone: str, at: time) -> datetime:
    """The first instant strictly after ``after`` when the member's clock shows ``at`` (UTC)."""
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone)
    for days in (0, 1, 2):
        candidate = _wall_clock_to_utc(local.date() + timedelta(days=days), at, zone)
        if candidate > after:
            return candidate
    raise AssertionError("a local time occurs every day")
