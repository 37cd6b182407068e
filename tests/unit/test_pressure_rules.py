"""Quiet hours on the member's own clock, across time zones and daylight saving time changes."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from notifications.pressure.rules import Situation, end_of_quiet_hours, judge, next_local_time

NIGHT = (time(21, 0), time(8, 0))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "timezone", "ends"),
    [
        # 22:00 in Paris (winter, UTC+1): deferred to 08:00 Paris the next morning.
        ("2026-11-22T21:00:00+00:00", "Europe/Paris", "2026-11-23T07:00:00+00:00"),
        # 06:30 in Paris: the same morning's 08:00.
        ("2026-11-23T05:30:00+00:00", "Europe/Paris", "2026-11-23T07:00:00+00:00"),
        # 03:00 UTC is 22:00 the day before in New York (UTC-5): 08:00 there is 13:00 UTC.
        ("2026-11-23T03:00:00+00:00", "America/New_York", "2026-11-23T13:00:00+00:00"),
        # 20:30 UTC is 07:30 in Auckland (UTC+13 in summer): half an hour left.
        ("2026-11-22T18:30:00+00:00", "Pacific/Auckland", "2026-11-22T19:00:00+00:00"),
        # Spring forward in Paris (28 March 2027, 02:00 → 03:00): 08:00 is already UTC+2.
        ("2027-03-27T21:30:00+00:00", "Europe/Paris", "2027-03-28T06:00:00+00:00"),
        # Fall back in Paris (25 October 2026, 03:00 → 02:00): 08:00 is UTC+1 again.
        ("2026-10-24T20:00:00+00:00", "Europe/Paris", "2026-10-25T07:00:00+00:00"),
        # Fall back in New York (1 November 2026): the night is an hour longer.
        ("2026-11-01T02:00:00+00:00", "America/New_York", "2026-11-01T13:00:00+00:00"),
    ],
)
def test_inside_quiet_hours_the_message_waits_for_their_end_on_the_members_clock(now: str, timezone: str, ends: str) -> None:
    assert end_of_quiet_hours(at(now), timezone, *NIGHT) == at(ends)


@pytest.mark.parametrize(
    ("now", "timezone"),
    [
        ("2026-11-22T10:00:00+00:00", "Europe/Paris"),  # 11:00
        ("2026-11-22T10:00:00+00:00", "Asia/Tokyo"),  # 19:00
        ("2026-11-22T19:59:59+00:00", "Europe/Paris"),  # 20:59:59
        ("2026-11-23T07:00:00+00:00", "Europe/Paris"),  # 08:00 sharp: over
    ],
)
def test_outside_quiet_hours_nothing_waits(now: str, timezone: str) -> None:
    assert end_of_quiet_hours(at(now), timezone, *NIGHT) is None


def test_quiet_hours_within_one_day_and_an_end_skipped_by_the_clocks() -> None:
    # 01:00 → 02:30 on the night Paris skips from 02:00 to 03:00: the end is the first instant after the gap.
    assert end_of_quiet_hours(at("2027-03-28T00:30:00+00:00"), "Europe/Paris", time(1, 0), time(2, 30)) == at(
        "2027-03-28T01:30:00+00:00"
    )
    assert end_of_quiet_hours(at("2026-11-22T12:00:00+00:00"), "UTC", time(12, 0), time(14, 0)) == at(
        "2026-11-22T14:00:00+00:00"
    )
    assert end_of_quiet_hours(at("2026-11-22T12:00:00+00:00"), "UTC", time(9, 0), time(9, 0)) is None


def test_the_next_local_time_follows_the_members_clock_across_a_dst_change() -> None:
    # 09:00 in Paris, after 10:00 UTC on the Saturday before spring forward: Sunday 09:00 CEST.
    assert next_local_time(at("2027-03-27T10:00:00+00:00"), "Europe/Paris", time(9, 0)) == at("2027-03-28T07:00:00+00:00")
    assert next_local_time(at("2026-11-22T07:00:00+00:00"), "Europe/Paris", time(9, 0)) == at("2026-11-22T08:00:00+00:00")


def situation(**changes: object) -> Situation:
    values: dict[str, object] = {
        "is_marketing": True,
        "channel": "email",
        "has_consent": True,
        "has_open_complaint": False,
        "blackout_until": None,
        "recent_marketing": 0,
        "cap_messages": 3,
        "timezone": "Europe/Paris",
        "quiet_start": NIGHT[0],
        "quiet_end": NIGHT[1],
    }
    values.update(changes)
    return Situation(**values)  # type: ignore[arg-type]


NOON = at("2026-11-22T11:00:00+00:00")
MIDNIGHT = at("2026-11-22T23:00:00+00:00")


@pytest.mark.parametrize(
    ("changes", "now", "verdict"),
    [
        ({}, NOON, ("send", None)),
        ({"has_open_complaint": True}, NOON, ("suppress", "open_complaint")),
        ({"has_consent": False}, NOON, ("suppress", "no_consent")),
        ({"blackout_until": MIDNIGHT}, NOON, ("defer", "blackout")),
        ({"recent_marketing": 3}, NOON, ("suppress", "pressure_cap")),
        ({"recent_marketing": 2}, NOON, ("send", None)),
        ({}, MIDNIGHT, ("defer", "quiet_hours")),
        ({"channel": "in_app"}, MIDNIGHT, ("send", None)),
        # Transactional messages pass every rule.
        ({"is_marketing": False, "has_consent": False, "recent_marketing": 9, "has_open_complaint": True}, MIDNIGHT, ("send", None)),
    ],
)
def test_the_rules_decide_in_order_and_say_why(changes: dict[str, object], now: datetime, verdict: tuple[str, str | None]) -> None:
    decided = judge(situation(**changes), now)
    assert (decided.action, decided.reason) == verdict
