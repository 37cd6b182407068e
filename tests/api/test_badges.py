"""Badges: earned on member metrics in the transaction of the event, at each level once, shown with
their progress; hidden ones shown once earned; configured through the admin API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.ledger.models import LedgerEntry
from loyalty.outbox import OutboxEvent
from rewards.badges.models import MemberMetric
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
def review(client: FlaskClient, service: Headers) -> Callable[..., None]:
    """``review(member, 3)``: the member posts 3 new reviews (reported by the reviews platform)."""
    count = 0

    def post(member: Member, times: int = 1) -> None:
        nonlocal count
        for _ in range(times):
            count += 1
            body = {
                "member_id": member["id"],
                "action": "review_posted",
                "ref": f"review-{count}",
                "occurred_at": "2026-11-22T09:00:00Z",
            }
            response = client.post("/api/v1/engagements", json=body, headers=service)
            assert response.status_code == 201, response.json

    return post


@pytest.fixture
def unlimited_reviews(client: FlaskClient, admin: Headers) -> None:
    """Reviews without the default program's limit of 5 a month."""
    response = client.patch(
        "/api/v1/admin/engagement-actions/review_posted", json={"max_per_period": None, "period": None}, headers=admin
    )
    assert response.status_code == 200, response.json


@pytest.fixture
def badges_of(client: FlaskClient, admin: Headers) -> Callable[..., dict[str, Any]]:
    """``badges_of(member)``: the member's badges document, earned and in progress by code."""

    def read(member: Member, headers: Headers | None = None) -> dict[str, Any]:
        response = client.get(f"/api/v1/members/{member['id']}/badges", headers=headers or admin)
        assert response.status_code == 200, response.json
        return {
            "earned": {item["code"]: item for item in response.json["earned"]},
            "in_progress": {item["code"]: item for item in response.json["in_progress"]},
        }

    return read


@pytest.fixture
def create_badge(client: FlaskClient, admin: Headers) -> Callable[..., dict[str, Any]]:
    def create(**body: Any) -> dict[str, Any]:
        response = client.post("/api/v1/admin/badges", json={"name": body["code"].title(), **body}, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    return create


def awarded_events(sessions, member: Member) -> list[tuple[str, int]]:
    with sessions() as session:
        payloads = session.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.event_type == "BadgeAwarded", OutboxEvent.member_id == member["id"])
            .order_by(OutboxEvent.id)
        )
        return [(payload["badge_code"], payload["level"]) for payload in payloads]


def test_a_first_review_earns_the_first_review_badge_and_starts_the_reviewer_badge(
    make_member, review, badges_of, sessions
):
    member = make_member()
    review(member)
    badges = badges_of(member)
    first = badges["earned"]["first_review"]
    assert (first["level"], first["level_name"], first["awarded_at"]) == (1, None, "2026-11-22T10:00:00+00:00")
    assert "first_review" not in badges["in_progress"]
    reviewer = badges["in_progress"]["reviewer"]
    assert (reviewer["level_name"], reviewer["current"], reviewer["target"], reviewer["percentage"]) == (
        "bronze",
        1,
        5,
        20,
    )
    assert awarded_events(sessions, member) == [("first_review", 1)]


def test_reviewer_levels_are_earned_at_5_20_and_50_each_once_with_their_points(
    make_member, review, unlimited_reviews, badges_of, sessions
):
    member = make_member()
    review(member, 4)
    assert "reviewer" not in badges_of(member)["earned"]
    review(member, 1)
    assert badges_of(member)["earned"]["reviewer"]["level_name"] == "bronze"
    review(member, 14)
    progress = badges_of(member)["in_progress"]["reviewer"]
    assert (progress["level_name"], progress["current"], progress["target"], progress["percentage"]) == (
        "silver",
        19,
        20,
        95,
    )
    review(member, 1)
    review(member, 30)
    badges = badges_of(member)
    reviewer = badges["earned"]["reviewer"]
    assert [(level["level"], level["name"]) for level in reviewer["levels"]] == [
        (1, "bronze"),
        (2, "silver"),
        (3, "gold"),
    ]
    assert (reviewer["level"], reviewer["level_name"]) == (3, "gold")
    assert "reviewer" not in badges["in_progress"]
    assert awarded_events(sessions, member) == [("first_review", 1), ("reviewer", 1), ("reviewer", 2), ("reviewer", 3)]
    with sessions() as session:
        credits = session.execute(
            select(LedgerEntry.reason, LedgerEntry.points).where(
                LedgerEntry.member_id == member["id"], LedgerEntry.source_type == "badge"
            )
        ).all()
    assert sorted(credits) == [("badge reviewer gold", 100), ("badge reviewer silver", 50)]


def test_reviews_over_the_actions_limit_and_replays_count_nothing(client, service, make_member, review, badges_of):
    member = make_member()
    review(member, 7)  # 5 a month in the default program
    replay = {
        "member_id": member["id"],
        "action": "review_posted",
        "ref": "review-1",
        "occurred_at": "2026-11-22T09:00:00Z",
    }
    assert client.post("/api/v1/engagements", json=replay, headers=service).status_code == 200
    assert badges_of(member)["earned"]["reviewer"]["level_name"] == "bronze"
    assert badges_of(member)["in_progress"]["reviewer"]["current"] == 5


def test_a_hidden_badge_is_shown_only_to_the_member_who_earned_it(
    client, make_member, login, badges_of, make_purchase, service
):
    member, other = make_member(), make_member()
    headers, other_headers = login(member), login(other)

    def catalog(caller: Headers) -> list[str]:
        response = client.get("/api/v1/badges", headers=caller)
        assert response.status_code == 200, response.json
        return [badge["code"] for badge in response.json]

    assert catalog(headers) == ["first_review", "four_weeks", "reviewer"]
    assert "explorer" not in badges_of(member, headers)["in_progress"]
    for action in ("store_visit", "review_posted"):
        body = {"member_id": member["id"], "action": action, "ref": "1", "occurred_at": "2026-11-22T09:00:00Z"}
        assert client.post("/api/v1/engagements", json=body, headers=service).status_code == 201
    make_purchase(member_id=member["id"])  # shoes: the discovery challenge is complete

    assert catalog(headers) == ["explorer", "first_review", "four_weeks", "reviewer"]
    assert badges_of(member, headers)["earned"]["explorer"]["level"] == 1
    assert catalog(other_headers) == ["first_review", "four_weeks", "reviewer"]
    assert catalog(service) == ["first_review", "four_weeks", "reviewer"]


def test_a_purchase_in_a_category_earns_the_badge_of_that_category(make_member, make_purchase, create_badge, badges_of):
    create_badge(code="first_beauty", metric="category_purchases", qualifier="beauty", target=1)
    member = make_member()
    make_purchase(member_id=member["id"])  # shoes and textile
    assert badges_of(member)["in_progress"]["first_beauty"]["current"] == 0
    make_purchase(
        member_id=member["id"], lines=[{"sku": "LIP-1", "category": "beauty", "quantity": 2, "unit_price": "9.00"}]
    )
    assert badges_of(member)["earned"]["first_beauty"]["level"] == 1


def test_reaching_a_tier_earns_the_badges_of_that_tier(make_member, make_purchase, create_badge, badges_of):
    create_badge(code="vip", metric="tier", qualifier="vip", target=1)
    create_badge(
        code="big_spender",
        metric="lifetime_points",
        levels=[{"name": "100", "target": 100}, {"name": "1000", "target": 1000}],
    )
    member = make_member()
    make_purchase(member_id=member["id"], total="150.00", lines=[])
    badges = badges_of(member)
    assert set(badges["earned"]) == {"vip", "big_spender"}
    assert badges["in_progress"]["big_spender"]["current"] == 10 + 150  # the enrolment's points, then the purchase's


def test_a_badge_added_later_is_earned_at_the_next_event_that_moves_its_metric(
    make_member, review, create_badge, badges_of
):
    member = make_member()
    review(member, 3)
    create_badge(code="three_reviews", metric="reviews", target=3, points=30)
    assert badges_of(member)["in_progress"]["three_reviews"]["percentage"] == 100
    review(member)
    assert badges_of(member)["earned"]["three_reviews"]["level"] == 1


def test_a_member_sees_their_own_badges_only(client, make_member, login):
    member, other = make_member(), make_member()
    assert client.get(f"/api/v1/members/{member['id']}/badges", headers=login(member)).status_code == 200
    assert client.get(f"/api/v1/members/{other['id']}/badges", headers=login(member)).status_code == 403


def test_changing_a_badges_levels_keeps_the_levels_earned(client, admin, make_member, review, badges_of):
    member = make_member()
    review(member, 5)
    levels = [{"name": "bronze", "target": 3}, {"name": "silver", "target": 6}]
    response = client.patch("/api/v1/admin/badges/reviewer", json={"levels": levels}, headers=admin)
    assert response.status_code == 200, response.json
    assert [(level["rank"], level["target"]) for level in response.json["levels"]] == [(1, 3), (2, 6)]
    badges = badges_of(member)
    assert badges["earned"]["reviewer"]["level_name"] == "bronze"
    assert (badges["in_progress"]["reviewer"]["target"], badges["in_progress"]["reviewer"]["percentage"]) == (6, 83)


def test_a_badge_members_earned_cannot_be_deleted_but_a_new_one_can(client, admin, make_member, review, create_badge):
    review(make_member())
    response = client.delete("/api/v1/admin/badges/first_review", headers=admin)
    assert response.status_code == 409
    assert response.json["invalid_params"][0]["name"] == "code"
    create_badge(code="unused", metric="shares", target=3)
    assert client.delete("/api/v1/admin/badges/unused", headers=admin).status_code == 204
    assert "unused" not in [badge["code"] for badge in client.get("/api/v1/admin/badges", headers=admin).json]


def test_an_inactive_badge_is_neither_listed_nor_earned(client, admin, make_member, review, badges_of):
    assert (
        client.patch("/api/v1/admin/badges/first_review", json={"is_active": False}, headers=admin).status_code == 200
    )
    member = make_member()
    review(member)
    badges = badges_of(member)
    assert "first_review" not in badges["earned"] and "first_review" not in badges["in_progress"]
    assert "first_review" not in [badge["code"] for badge in client.get("/api/v1/badges", headers=admin).json]


def test_each_event_moves_the_members_metric_rows_that_progress_is_read_from(make_member, review, sessions, caught_up):
    member = make_member()
    review(member, 2)
    caught_up()
    with sessions() as session:
        rows = session.execute(
            select(MemberMetric.metric, MemberMetric.qualifier, MemberMetric.value).where(
                MemberMetric.member_id == member["id"]
            )
        ).all()
    # 10 points at enrolment and 10 per review; the reviews also make a first active week.
    assert sorted(tuple(row) for row in rows) == [
        ("lifetime_points", "", 30),
        ("reviews", "", 2),
        ("streak", "weekly_activity", 1),
    ]
