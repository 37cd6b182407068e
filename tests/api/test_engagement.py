"""Engagement actions: the built-in ones at enrolment and on the profile, reports through
``POST /engagements`` within each action's limits (in the member's time zone), and their configuration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import DEFAULT_PROGRAM, Headers

Engage = Callable[..., TestResponse]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def engage(client: FlaskClient, service: Headers) -> Engage:
    """``engage(member, "share", "ref-1", at="2026-11-22T09:00:00Z", headers=…)``: POST /engagements
    (as a service unless told otherwise)."""

    def post(
        member: dict[str, Any],
        action: str,
        ref: str,
        *,
        at: str = "2026-11-22T09:00:00Z",
        headers: Headers | None = None,
    ) -> TestResponse:
        body = {"member_id": member["id"], "action": action, "ref": ref, "occurred_at": at}
        return client.post("/api/v1/engagements", json=body, headers=headers or service)

    return post


@pytest.fixture
def engagements(client: FlaskClient, admin: Headers) -> Callable[[dict[str, Any]], list[tuple[str, int, str]]]:
    """``engagements(member)``: the member's engagements as ``(action, points, outcome)``, oldest first."""

    def read(member: dict[str, Any]) -> list[tuple[str, int, str]]:
        response = client.get(f"/api/v1/members/{member['id']}/engagements", headers=admin)
        assert response.status_code == 200, response.json
        return [(item["action"], item["points_awarded"], item["outcome"]) for item in reversed(response.json)]

    return read


@pytest.fixture
def balance(client: FlaskClient, admin: Headers) -> Callable[[dict[str, Any]], int]:
    def read(member: dict[str, Any]) -> int:
        return client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"]

    return read


def awarded(responses: list[TestResponse]) -> list[int]:
    """The points each report earned, checking that every one was accepted as new."""
    assert [response.status_code for response in responses] == [201] * len(responses), [r.json for r in responses]
    return [response.json["points_awarded"] for response in responses]


def two_visits(engage: Engage, member: dict[str, Any], first: str, second: str) -> list[int]:
    """The points of two store visits, at ``first`` and at ``second``."""
    return awarded([engage(member, "store_visit", f"visit-{n}", at=at) for n, at in enumerate((first, second))])


# -- Built-in actions ------------------------------------------------------------------------------


def test_enrolment_awards_account_created(make_member, engagements, balance):
    member = make_member()
    assert engagements(member) == [("account_created", 10, "awarded")]
    assert member["points_balance"] == balance(member) == 10


def test_enrolment_with_a_complete_profile_also_awards_profile_completed(make_member, engagements):
    member = make_member(phone="+33 6 12 34 56 78", birth_date="1990-05-04")
    assert engagements(member) == [("account_created", 10, "awarded"), ("profile_completed", 20, "awarded")]
    assert member["points_balance"] == 30


def test_completing_the_profile_later_awards_profile_completed_once(client, make_member, login, engagements, balance):
    member = make_member()
    url, headers = f"/api/v1/members/{member['id']}", login(member)
    assert client.patch(url, json={"phone": "+33 6 12 34 56 78"}, headers=headers).json["points_balance"] == 10
    completed = client.patch(url, json={"birth_date": "1990-05-04"}, headers=headers)
    assert completed.status_code == 200, completed.json
    assert completed.json["points_balance"] == 30
    client.patch(url, json={"phone": "+33 7 00 00 00 00"}, headers=headers)
    client.patch(url, json={"first_name": "Jeanne"}, headers=headers)
    assert engagements(member) == [("account_created", 10, "awarded"), ("profile_completed", 20, "awarded")]
    assert balance(member) == 30


# -- Reports ---------------------------------------------------------------------------------------


def test_a_report_earns_the_actions_points_and_a_replay_answers_the_original(
    client, engage, make_member, balance, admin
):
    member = make_member()
    first = engage(member, "review_posted", "review-81")
    assert first.status_code == 201, first.json
    assert first.json == {
        "id": first.json["id"],
        "member_id": member["id"],
        "action": "review_posted",
        "ref": "review-81",
        "occurred_at": "2026-11-22T09:00:00+00:00",
        "points_awarded": 10,
        "outcome": "awarded",
        "reason": None,
    }
    replay = engage(member, "review_posted", "review-81")
    assert (replay.status_code, replay.json) == (200, first.json)
    assert balance(member) == 20
    entry = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"][0]
    assert (entry["kind"], entry["points"], entry["reason"]) == ("bonus", 10, "engagement review_posted")


def test_over_a_limit_the_report_succeeds_with_no_points_and_the_reason(engage, make_member, balance):
    member = make_member()
    assert awarded([engage(member, "store_visit", "visit-1", at="2026-11-22T08:00:00Z")]) == [2]
    refused = engage(member, "store_visit", "visit-2", at="2026-11-22T09:00:00Z")
    assert refused.status_code == 201, refused.json
    assert (refused.json["points_awarded"], refused.json["outcome"], refused.json["reason"]) == (
        0,
        "limit_reached",
        "at most 1 per day, already reached",
    )
    assert balance(member) == 12


def test_a_report_over_a_limit_or_replayed_leaves_the_balance_and_the_lifetime_points(client, admin, engage, make_member):
    member = make_member()
    assert awarded([engage(member, "store_visit", "visit-1", at="2026-11-22T08:00:00Z")]) == [2]
    before = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
    assert engage(member, "store_visit", "visit-2", at="2026-11-22T09:00:00Z").json["outcome"] == "limit_reached"
    assert engage(member, "store_visit", "visit-1", at="2026-11-22T08:00:00Z").status_code == 200
    after = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
    assert (after["points_balance"], after["lifetime_points"]) == (before["points_balance"], before["lifetime_points"])
    ledger = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"]
    assert [entry["reason"] for entry in ledger].count("engagement store_visit") == 1


def test_an_action_awarded_once_per_member_earns_nothing_the_second_time(engage, make_member):
    member = make_member()
    first, second = engage(member, "newsletter_subscribed", "list-a"), engage(member, "newsletter_subscribed", "list-b")
    assert awarded([first, second]) == [10, 0]
    assert second.json["reason"] == "awarded once per member, already awarded"


def test_a_refused_report_does_not_count_towards_the_limit(engage, make_member):
    member = make_member()
    refs = [f"review-{number}" for number in range(6)]
    assert awarded([engage(member, "review_posted", ref) for ref in refs]) == [10] * 5 + [0]


def test_a_member_reports_a_self_reportable_action_with_their_own_token(engage, make_member, login):
    member = make_member()
    response = engage(member, "share", "share-1", headers=login(member))
    assert (response.status_code, response.json["points_awarded"]) == (201, 5)


def test_a_member_may_not_report_an_action_reserved_to_services(engage, make_member, login, engagements):
    member = make_member()
    response = engage(member, "review_posted", "review-1", headers=login(member))
    assert response.status_code == 403, response.json
    assert response.json["invalid_params"][0]["name"] == "action"
    assert engagements(member) == [("account_created", 10, "awarded")]


def test_a_member_may_not_report_for_another_member(engage, make_member, login):
    member, other = make_member(), make_member()
    assert engage(other, "share", "share-1", headers=login(member)).status_code == 403


def test_a_till_may_not_report_engagements(engage, make_member, till):
    assert engage(make_member(), "store_visit", "visit-1", headers=till).status_code == 403


def test_an_unknown_action_is_refused(engage, make_member):
    response = engage(make_member(), "moon_landing", "ref-1")
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "action"


def test_an_inactive_action_is_refused(client, admin, engage, make_member):
    response = client.patch("/api/v1/admin/engagement-actions/share", json={"is_active": False}, headers=admin)
    assert response.status_code == 200, response.json
    assert engage(make_member(), "share", "share-1").status_code == 422


@pytest.mark.parametrize(("at", "status"), [("2026-11-22T10:09:00Z", 201), ("2026-11-22T10:11:00Z", 422)])
def test_a_report_may_be_dated_at_most_ten_minutes_ahead_of_the_clock(engage, make_member, at, status):
    response = engage(make_member(), "share", "share-1", at=at)
    assert response.status_code == status, response.json


@pytest.mark.parametrize(
    ("at", "by_member", "status"),
    [
        ("2026-11-21T10:01:00Z", False, 201),
        ("2025-11-22T10:01:00Z", False, 201),
        ("2025-11-22T09:59:00Z", False, 422),
        ("2026-11-22T09:01:00Z", True, 201),
        ("2026-11-22T08:59:00Z", True, 422),
    ],
    ids=["service, a day back", "service, a year back", "service, over a year", "app, within the hour", "app, later"],
)
def test_a_service_may_date_a_report_back_a_year_and_a_members_app_an_hour(engage, make_member, login, at, by_member, status):
    member = make_member()
    response = engage(member, "share", "share-1", at=at, headers=login(member) if by_member else None)
    assert response.status_code == status, response.json
    if status == 422:
        assert [param["name"] for param in response.json["invalid_params"]] == ["occurred_at"]


def test_a_report_for_an_unknown_member_is_refused_naming_the_field(engage):
    response = engage({"id": 999_999}, "share", "share-1")
    assert (response.status_code, response.json["invalid_params"][0]["name"]) == (422, "member_id")


# -- Periods in the member's time zone ------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "first", "second", "points"),
    [
        # The same UTC day: 23:30 and 00:30 the next day in Auckland, 02:30 and 03:30 in Los Angeles.
        ("Pacific/Auckland", "2026-11-21T10:30:00Z", "2026-11-21T11:30:00Z", [2, 2]),
        ("America/Los_Angeles", "2026-11-21T10:30:00Z", "2026-11-21T11:30:00Z", [2, 0]),
        # Two UTC days: 09:00 and 18:00 on one day in Auckland, 12:00 and 21:00 on one day in Los Angeles.
        ("Pacific/Auckland", "2026-11-21T20:00:00Z", "2026-11-22T05:00:00Z", [2, 0]),
        ("America/Los_Angeles", "2026-11-21T20:00:00Z", "2026-11-22T05:00:00Z", [2, 0]),
        ("UTC", "2026-11-21T20:00:00Z", "2026-11-22T05:00:00Z", [2, 2]),
    ],
)
def test_a_daily_limit_follows_the_members_calendar_day(engage, make_member, timezone, first, second, points):
    assert two_visits(engage, make_member(timezone=timezone), first, second) == points


@pytest.mark.parametrize(
    ("first", "second", "points"),
    [
        # 25 October 2026 has 25 hours in Paris: 00:30 CEST and 23:30 CET are 24 hours apart, on one day.
        ("2026-10-25T00:30:00+02:00", "2026-10-25T23:30:00+01:00", [2, 0]),
        # 29 March 2026 has 23 hours: 00:30 CET on the 29th and 00:30 CEST on the 30th are 23 hours apart.
        ("2026-03-29T00:30:00+01:00", "2026-03-30T00:30:00+02:00", [2, 2]),
        ("2026-03-29T00:30:00+01:00", "2026-03-29T23:30:00+02:00", [2, 0]),
    ],
)
def test_a_daily_limit_follows_the_day_across_a_daylight_saving_change(engage, make_member, first, second, points):
    assert two_visits(engage, make_member(timezone="Europe/Paris"), first, second) == points


@pytest.mark.parametrize(("timezone", "last_points"), [("Europe/Paris", 5), ("America/Los_Angeles", 0)])
def test_a_weekly_limit_counts_iso_weeks_from_monday_across_the_new_year(
    engage, make_member, clock, timezone, last_points
):
    """Monday 28 December 2026 to Sunday 3 January 2027 is one ISO week (2026-W53)."""
    member = make_member(timezone=timezone)
    clock.set(datetime(2027, 1, 5, 12, 0, tzinfo=UTC))
    shares = [
        ("2026-12-27T12:00:00Z", 5),  # the week before
        ("2026-12-28T12:00:00Z", 5),
        ("2026-12-31T12:00:00Z", 5),
        ("2027-01-01T12:00:00Z", 5),
        ("2027-01-03T12:00:00Z", 0),  # a fourth share in week 53
        # Monday 07:00 in Paris (week 1 of 2027), still Sunday 22:00 in Los Angeles (week 53).
        ("2027-01-04T06:00:00Z", last_points),
    ]
    responses = [engage(member, "share", f"share-{number}", at=at) for number, (at, _) in enumerate(shares)]
    assert awarded(responses) == [points for _, points in shares]


def test_a_monthly_limit_follows_the_members_calendar_month(engage, make_member):
    member = make_member(timezone="Europe/Paris")
    surveys = [
        ("2026-10-31T22:30:00Z", 15),  # 23:30 on 31 October in Paris
        ("2026-10-31T23:30:00Z", 15),  # 00:30 on 1 November in Paris: a new month
        ("2026-11-21T12:00:00Z", 0),
    ]
    responses = [engage(member, "survey_completed", f"survey-{n}", at=at) for n, (at, _) in enumerate(surveys)]
    assert awarded(responses) == [points for _, points in surveys]


def test_a_cooldown_spaces_awards_in_both_directions_of_time(client, admin, engage, make_member):
    action = {"key": "quiz_answered", "name": "Quiz", "points": 3, "cooldown_minutes": 60, "self_reportable": True}
    assert client.post("/api/v1/admin/engagement-actions", json=action, headers=admin).status_code == 201
    member = make_member()
    quizzes = [
        ("2026-11-22T08:00:00Z", 3),
        ("2026-11-22T08:30:00Z", 0),  # 30 minutes after an award
        ("2026-11-22T09:01:00Z", 3),  # 61 minutes after the last award: the refused one does not count
        ("2026-11-22T07:20:00Z", 0),  # reported late, 40 minutes before an award
        ("2026-11-22T06:59:00Z", 3),
    ]
    responses = [engage(member, "quiz_answered", f"quiz-{number}", at=at) for number, (at, _) in enumerate(quizzes)]
    assert awarded(responses) == [points for _, points in quizzes]
    assert responses[1].json["reason"] == "at most once every 60 minutes"


# -- Listing and configuration ---------------------------------------------------------------------


def test_a_member_reads_their_engagements_newest_first_with_the_reasons(client, engage, make_member, login):
    member = make_member()
    engage(member, "store_visit", "visit-1", at="2026-11-22T08:00:00Z")
    engage(member, "store_visit", "visit-2", at="2026-11-22T09:00:00Z")
    response = client.get(f"/api/v1/members/{member['id']}/engagements", headers=login(member))
    assert response.status_code == 200
    assert [(item["ref"], item["points_awarded"], item["reason"]) for item in response.json] == [
        ("visit-2", 0, "at most 1 per day, already reached"),
        ("visit-1", 2, None),
        ("account", 10, None),
    ]
    other = make_member()
    assert client.get(f"/api/v1/members/{other['id']}/engagements", headers=login(member)).status_code == 403


def test_the_default_program_ships_the_built_in_actions(client, admin):
    actions = {action["key"]: action for action in client.get("/api/v1/admin/engagement-actions", headers=admin).json}
    assert set(actions) == {
        "account_created",
        "profile_completed",
        "referral",
        "review_posted",
        "share",
        "app_installed",
        "newsletter_subscribed",
        "store_visit",
        "survey_completed",
        "quiz_completed",
    }
    assert (actions["store_visit"]["max_per_period"], actions["store_visit"]["period"]) == (1, "day")
    assert actions["account_created"]["once_per_member"] and not actions["review_posted"]["self_reportable"]


def test_changing_an_actions_points_applies_to_later_reports(client, admin, engage, make_member):
    member = make_member()
    assert awarded([engage(member, "review_posted", "review-1")]) == [10]
    changed = client.patch("/api/v1/admin/engagement-actions/review_posted", json={"points": 25}, headers=admin)
    assert (changed.status_code, changed.json["points"]) == (200, 25)
    assert awarded([engage(member, "review_posted", "review-2")]) == [25]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"key": "share", "name": "Share again", "points": 1}, 409, "key"),
        ({"key": "visit", "name": "Visit", "points": 1, "max_per_period": 2}, 422, "period"),
        ({"key": "visit", "name": "Visit", "points": 1, "period": "year", "max_per_period": 2}, 422, "period"),
        ({"key": "Visit!", "name": "Visit", "points": 1}, 422, "key"),
    ],
)
def test_an_inconsistent_action_is_refused(client, admin, body, status, field):
    response = client.post("/api/v1/admin/engagement-actions", json=body, headers=admin)
    assert response.status_code == status, response.json
    assert field in {param["name"] for param in response.json["invalid_params"]}


def test_only_an_admin_configures_actions(client, service):
    body = {"key": "visit", "name": "Visit", "points": 1}
    assert client.post("/api/v1/admin/engagement-actions", json=body, headers=service).status_code == 403
