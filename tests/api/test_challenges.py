"""Challenges: steps moved by purchases and engagement inside the window, in any order or in sequence,
opt-in or for everyone; completed and rewarded once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.ledger.models import LedgerEntry
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
def engage(client: FlaskClient, service: Headers) -> Callable[..., None]:
    """``engage(member, "store_visit")``: the member did it (a new ref each time), reported now."""
    count = 0

    def post(member: Member, action: str) -> None:
        nonlocal count
        count += 1
        body = {
            "member_id": member["id"],
            "action": action,
            "ref": f"{action}-{count}",
            "occurred_at": "2026-11-22T09:00:00Z",
        }
        response = client.post("/api/v1/engagements", json=body, headers=service)
        assert response.status_code == 201, response.json
        assert response.json["outcome"] == "awarded", response.json

    return post


@pytest.fixture
def buy(make_purchase, clock) -> Callable[..., None]:
    """``buy(member, "shoes")``: a purchase with a line in the category, made now."""

    def purchase(member: Member, category: str = "shoes") -> None:
        line = {"sku": "SKU-1", "category": category, "quantity": 1, "unit_price": "25.00"}
        make_purchase(member_id=member["id"], total="25.00", lines=[line], occurred_at=clock.now().isoformat())

    return purchase


@pytest.fixture
def challenge_of(client: FlaskClient, admin: Headers) -> Callable[..., dict[str, Any]]:
    """``challenge_of(member, "discover_store")``: the member's progress document on that challenge."""

    def read(member: Member, code: str) -> dict[str, Any]:
        response = client.get(f"/api/v1/members/{member['id']}/challenges", headers=admin)
        assert response.status_code == 200, response.json
        return next(item for item in response.json if item["code"] == code)

    return read


@pytest.fixture
def create_challenge(client: FlaskClient, admin: Headers) -> Callable[..., dict[str, Any]]:
    """``create_challenge(code="c", …)``: a challenge open from yesterday, for a week, of two reviews
    then a shoes purchase unless told otherwise."""

    def create(**overrides: Any) -> dict[str, Any]:
        body = {
            "code": "spring",
            "name": "Spring challenge",
            "starts_at": "2026-11-21T00:00:00Z",
            "ends_at": "2026-11-29T00:00:00Z",
            "steps": [
                {"kind": "engagement", "action": "review_posted", "count": 2},
                {"kind": "purchase", "category": "shoes"},
            ],
            "reward_points": 30,
            **overrides,
        }
        response = client.post("/api/v1/admin/challenges", json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    return create


@pytest.fixture
def spring_badge(client: FlaskClient, admin: Headers) -> None:
    """A badge for five challenges completed, which a challenge may also give at once."""
    badge = {"code": "spring_badge", "name": "Spring", "metric": "challenges_completed", "target": 5}
    assert client.post("/api/v1/admin/badges", json=badge, headers=admin).status_code == 201


def events(sessions, member: Member, event_type: str) -> list[dict[str, Any]]:
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboxEvent.payload)
                .where(OutboxEvent.event_type == event_type, OutboxEvent.member_id == member["id"])
                .order_by(OutboxEvent.id)
            )
        )


def challenge_credits(sessions, member: Member) -> list[tuple[str, int]]:
    with sessions() as session:
        rows = session.execute(
            select(LedgerEntry.reason, LedgerEntry.points)
            .where(LedgerEntry.member_id == member["id"], LedgerEntry.source_type == "challenge")
            .order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]


def test_the_discovery_challenge_moves_step_by_step_and_rewards_once(make_member, engage, buy, challenge_of, sessions):
    member = make_member()
    assert challenge_of(member, "discover_store")["status"] == "not_started"
    engage(member, "store_visit")
    progress = challenge_of(member, "discover_store")
    assert (progress["status"], progress["percentage"]) == ("in_progress", 33)
    assert [step["done"] for step in progress["steps"]] == [1, 0, 0]
    buy(member, "shoes")
    assert challenge_of(member, "discover_store")["percentage"] == 66
    engage(member, "review_posted")
    done = challenge_of(member, "discover_store")
    assert (done["status"], done["percentage"], done["completed_at"]) == ("completed", 100, "2026-11-22T10:00:00+00:00")

    engage(member, "review_posted")
    buy(member, "shoes")
    assert challenge_credits(sessions, member) == [("challenge discover_store", 50)]
    assert [event["challenge_code"] for event in events(sessions, member, "ChallengeCompleted")] == ["discover_store"]


def test_a_purchase_outside_the_steps_category_moves_nothing(make_member, buy, challenge_of):
    member = make_member()
    buy(member, "textile")
    assert challenge_of(member, "discover_store")["status"] == "not_started"


def test_an_opt_in_challenge_counts_only_after_the_member_joined(
    client, make_member, login, engage, buy, create_challenge, challenge_of, sessions
):
    create_challenge(requires_join=True)
    member = make_member()
    engage(member, "review_posted")
    assert challenge_of(member, "spring")["status"] == "not_joined"
    assert [step["done"] for step in challenge_of(member, "spring")["steps"]] == [0, 0]

    headers = login(member)
    joined = client.post(f"/api/v1/members/{member['id']}/challenges/spring/join", headers=headers)
    assert joined.status_code == 201, joined.json
    assert (joined.json["status"], joined.json["joined_at"]) == ("in_progress", "2026-11-22T10:00:00+00:00")
    again = client.post(f"/api/v1/members/{member['id']}/challenges/spring/join", headers=headers)
    assert again.status_code == 200

    engage(member, "review_posted")
    engage(member, "review_posted")
    buy(member)
    assert challenge_of(member, "spring")["status"] == "completed"
    assert ("challenge spring", 30) in challenge_credits(sessions, member)


def test_an_ordered_challenge_counts_a_step_only_after_the_ones_before_it(
    make_member, engage, buy, create_challenge, challenge_of
):
    create_challenge(is_ordered=True)
    member = make_member()
    buy(member)  # the purchase comes second: it counts nothing yet
    engage(member, "review_posted")
    engage(member, "review_posted")
    assert [step["done"] for step in challenge_of(member, "spring")["steps"]] == [2, 0]
    buy(member)
    assert challenge_of(member, "spring")["status"] == "completed"


def test_activity_outside_the_window_counts_nothing_and_a_closed_challenge_cannot_be_joined(
    client, admin, make_member, engage, create_challenge, challenge_of, clock
):
    create_challenge(starts_at="2026-11-23T00:00:00Z", requires_join=False)
    member = make_member()
    engage(member, "review_posted")  # the day before it starts
    assert challenge_of(member, "spring")["status"] == "not_started"

    clock.set(clock.now() + timedelta(days=8))  # 30 November: over
    engage(member, "review_posted")
    response = client.get(f"/api/v1/members/{member['id']}/challenges", headers=admin)
    assert "spring" not in [item["code"] for item in response.json]
    assert "spring" not in [item["code"] for item in client.get("/api/v1/challenges", headers=admin).json]
    closed = client.post(f"/api/v1/members/{member['id']}/challenges/spring/join", headers=admin)
    assert closed.status_code == 422
    assert closed.json["invalid_params"][0]["name"] == "code"


def test_a_challenge_rewards_its_badge_and_its_offer_voucher(
    client, admin, make_member, engage, buy, spring_badge, create_challenge, sessions
):
    offer = {
        "code": "SPRING-GIFT",
        "name": "Spring gift",
        "kind": "gift",
        "cost_points": 0,
        "validity_days": 30,
        "is_offer": True,
    }
    assert client.post("/api/v1/admin/rewards", json=offer, headers=admin).status_code == 201
    create_challenge(reward_badge_code="spring_badge", reward_code="SPRING-GIFT", reward_points=0)
    member = make_member()
    engage(member, "review_posted")
    engage(member, "review_posted")
    buy(member)
    vouchers = client.get(f"/api/v1/members/{member['id']}/vouchers", headers=admin).json
    assert [(voucher["reward_code"], voucher["points_cost"], voucher["source"]) for voucher in vouchers] == [
        ("SPRING-GIFT", 0, "challenge")
    ]
    badges = client.get(f"/api/v1/members/{member['id']}/badges", headers=admin).json
    assert "spring_badge" in [badge["code"] for badge in badges["earned"]]
    assert challenge_credits(sessions, member) == []


def test_a_voucher_out_of_stock_leaves_the_completion_and_the_points(
    client, admin, make_member, engage, buy, create_challenge, sessions
):
    offer = {
        "code": "RARE",
        "name": "Rare gift",
        "kind": "gift",
        "cost_points": 0,
        "validity_days": 30,
        "is_offer": True,
        "stock": 0,
    }
    assert client.post("/api/v1/admin/rewards", json=offer, headers=admin).status_code == 201
    create_challenge(reward_code="RARE")
    member = make_member()
    engage(member, "review_posted")
    engage(member, "review_posted")
    buy(member)
    assert client.get(f"/api/v1/members/{member['id']}/vouchers", headers=admin).json == []
    assert challenge_credits(sessions, member) == [("challenge spring", 30)]


def test_the_list_shows_the_challenges_not_over_to_any_caller(client, till, create_challenge):
    create_challenge(starts_at="2026-12-01T00:00:00Z", ends_at=None, code="winter")
    response = client.get("/api/v1/challenges", headers=till)
    assert response.status_code == 200
    assert [item["code"] for item in response.json] == ["discover_store", "winter"]
    assert [step["position"] for step in response.json[1]["steps"]] == [1, 2]


def test_the_steps_of_a_challenge_members_take_part_in_cannot_change(client, admin, make_member, engage):
    engage(make_member(), "store_visit")
    steps = [{"kind": "purchase"}]
    response = client.patch("/api/v1/admin/challenges/discover_store", json={"steps": steps}, headers=admin)
    assert response.status_code == 409
    assert response.json["invalid_params"][0]["name"] == "steps"
    assert client.delete("/api/v1/admin/challenges/discover_store", headers=admin).status_code == 409
    renamed = client.patch("/api/v1/admin/challenges/discover_store", json={"name": "Discovery"}, headers=admin)
    assert renamed.status_code == 200 and len(renamed.json["steps"]) == 3


def test_the_steps_of_a_challenge_nobody_took_part_in_are_replaced(client, admin, create_challenge):
    create_challenge()
    steps = [{"kind": "purchase"}, {"kind": "engagement", "action": "share", "count": 3}]
    response = client.patch("/api/v1/admin/challenges/spring", json={"steps": steps}, headers=admin)
    assert response.status_code == 200, response.json
    assert [(step["position"], step["kind"], step["count"]) for step in response.json["steps"]] == [
        (1, "purchase", 1),
        (2, "engagement", 3),
    ]
    assert client.delete("/api/v1/admin/challenges/spring", headers=admin).status_code == 204


def test_completing_a_challenge_counts_for_challenge_badges(make_member, engage, buy, sessions, caught_up):
    member = make_member()
    for action in ("store_visit", "review_posted"):
        engage(member, action)
    buy(member)
    caught_up()
    with sessions() as session:
        completed = session.scalar(
            select(func.count()).where(OutboxEvent.event_type == "BadgeAwarded", OutboxEvent.member_id == member["id"])
        )
    assert completed == 2  # first_review, then explorer (a hidden badge on challenges_completed)
