"""Streaks: consecutive ISO weeks (or days) with a qualifying activity, counted in the member's time
zone, extended on the activity and read as broken once a period passed without one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.clock import FrozenClock
from loyalty.outbox import OutboxEvent
from tests.conftest import DEFAULT_PROGRAM, Headers

Member = dict[str, Any]



@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the derived figures once the outbox consumers have caught up."""
    return caught_up_client

@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def visit_at(client: FlaskClient, service: Headers, clock: FrozenClock) -> Callable[[Member, str], None]:
    """``visit_at(member, "2026-11-23T08:00:00+01:00")``: the clock moves there and the member's store
    visit is reported."""
    count = 0

    def visit(member: Member, at: str) -> None:
        nonlocal count
        count += 1
        clock.set(datetime.fromisoformat(at))
        body = {"member_id": member["id"], "action": "store_visit", "ref": f"visit-{count}", "occurred_at": at}
        response = client.post("/api/v1/engagements", json=body, headers=service)
        assert response.status_code == 201, response.json

    return visit


@pytest.fixture
def streak_of(client: FlaskClient, admin: Headers, clock: FrozenClock) -> Callable[..., dict[str, Any]]:
    """``streak_of(member, at=…)``: the member's weekly_activity run, read at ``at`` (the clock moves)."""

    def read(member: Member, at: str | None = None) -> dict[str, Any]:
        if at is not None:
            clock.set(datetime.fromisoformat(at))
        response = client.get(f"/api/v1/members/{member['id']}/streaks", headers=admin)
        assert response.status_code == 200, response.json
        return next(item for item in response.json if item["code"] == "weekly_activity")

    return read


def runs(streak: dict[str, Any]) -> tuple[int, int, str | None]:
    return streak["current"], streak["best"], streak["last_active_period"]


def test_four_weeks_in_a_row_make_a_run_of_four_and_earn_the_streak_badge(
    client, admin, make_member, visit_at, streak_of, sessions
):
    member = make_member(timezone="Europe/Paris")
    for at in (
        "2026-11-24T18:00:00+01:00",
        "2026-12-06T23:30:00+01:00",
        "2026-12-07T00:30:00+01:00",
        "2026-12-19T12:00:00+01:00",
    ):
        visit_at(member, at)
    assert runs(streak_of(member)) == (4, 4, "2026-12-14")
    with sessions() as session:
        lengths = session.scalars(
            select(OutboxEvent.payload["length"].as_integer())
            .where(OutboxEvent.event_type == "StreakExtended", OutboxEvent.member_id == member["id"])
            .order_by(OutboxEvent.id)
        ).all()
    # Enrolment (account_created) is not one of the streak's actions: only the visits count.
    assert lengths == [1, 2, 3, 4]
    badges = client.get(f"/api/v1/members/{member['id']}/badges", headers=admin).json
    assert "four_weeks" in [badge["code"] for badge in badges["earned"]]


def test_a_second_activity_in_the_same_week_changes_nothing(make_member, visit_at, streak_of):
    member = make_member(timezone="Europe/Paris")
    visit_at(member, "2026-11-23T00:10:00+01:00")  # Monday
    visit_at(member, "2026-11-29T23:50:00+01:00")  # Sunday of the same week
    assert runs(streak_of(member)) == (1, 1, "2026-11-23")


def test_the_week_is_the_members_own_a_monday_in_kiritimati_is_a_sunday_in_utc(make_member, visit_at, streak_of):
    early, late = make_member(timezone="Pacific/Kiritimati"), make_member(timezone="UTC")
    for member in (early, late):
        visit_at(member, "2026-11-22T11:00:00+00:00")  # Sunday 11:00 in UTC, Monday 01:00 in Kiritimati
        visit_at(member, "2026-11-24T11:00:00+00:00")  # Tuesday in both
    assert runs(streak_of(early)) == (1, 1, "2026-11-23")
    assert runs(streak_of(late)) == (2, 2, "2026-11-23")


def test_a_run_is_read_as_broken_once_a_whole_week_passed_without_activity(make_member, visit_at, streak_of):
    member = make_member(timezone="Europe/Paris")
    visit_at(member, "2026-11-24T10:00:00+01:00")
    visit_at(member, "2026-12-01T10:00:00+01:00")
    assert runs(streak_of(member, at="2026-12-13T23:59:00+01:00")) == (2, 2, "2026-11-30")  # the week after: alive
    assert runs(streak_of(member, at="2026-12-14T00:00:00+01:00")) == (0, 2, "2026-11-30")  # a week missed
    visit_at(member, "2026-12-15T10:00:00+01:00")
    assert runs(streak_of(member)) == (1, 2, "2026-12-14")


def test_a_daily_streak_counts_local_days(client, admin, make_member, visit_at):
    created = client.post(
        "/api/v1/admin/streaks",
        json={
            "code": "daily_visit",
            "name": "Every day",
            "period": "day",
            "counts_purchases": False,
            "actions": ["store_visit"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.json
    member = make_member(timezone="America/New_York")
    # 23:00 on Saturday 28 November and 00:30 on Sunday 29 in New York; then a day missed.
    for at in ("2026-11-28T23:00:00-05:00", "2026-11-29T00:30:00-05:00", "2026-12-01T09:00:00-05:00"):
        visit_at(member, at)
    streaks = client.get(f"/api/v1/members/{member['id']}/streaks", headers=admin).json
    daily = next(item for item in streaks if item["code"] == "daily_visit")
    assert runs(daily) == (1, 2, "2026-12-01")


def test_a_new_member_has_an_empty_run_on_each_active_streak(client, admin, make_member, login):
    member = make_member()
    response = client.get(f"/api/v1/members/{member['id']}/streaks", headers=login(member))
    assert response.status_code == 200
    assert [(item["code"], item["period"], item["current"], item["best"]) for item in response.json] == [
        ("weekly_activity", "week", 0, 0)
    ]


def test_the_period_of_a_streak_members_ran_cannot_change(client, admin, make_member, visit_at):
    visit_at(make_member(), "2026-11-24T10:00:00+01:00")
    response = client.patch("/api/v1/admin/streaks/weekly_activity", json={"period": "day"}, headers=admin)
    assert response.status_code == 409
    assert response.json["invalid_params"][0]["name"] == "period"
    assert client.delete("/api/v1/admin/streaks/weekly_activity", headers=admin).status_code == 409
    renamed = client.patch("/api/v1/admin/streaks/weekly_activity", json={"name": "Weekly"}, headers=admin)
    assert renamed.status_code == 200 and renamed.json["period"] == "week"
