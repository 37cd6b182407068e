"""Custom events: types defined with a JSON Schema, events posted idempotently on ``(type, ref)`` and
validated against it, and what they move: the points of the engagement actions bound to them (with
conditions on their properties and the usual limits), scenario entries, badges and challenge steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from loyalty.clock import FrozenClock
from notifications.journeys.models import Journey
from tests.api.scenario_engine import add_scenario, make_runtime, run_due

Headers = dict[str, str]
Post = Callable[..., TestResponse]

REVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "product": {"type": "string", "maxLength": 40},
    },
    "required": ["rating"],
    "additionalProperties": False,
}



@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the derived figures (badges, challenges) once the outbox consumers have caught up."""
    return caught_up_client

@pytest.fixture
def review_type(client: FlaskClient, admin: Headers) -> dict[str, Any]:
    body = {"key": "app_review_posted", "name": "App review posted", "schema": REVIEW_SCHEMA}
    response = client.post("/api/v1/admin/event-types", json=body, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def post_event(client: FlaskClient, service: Headers) -> Post:
    """``post_event(member, "ref-1", rating=5)``: POST /events of an app review by the member."""

    def post(member: dict[str, Any], ref: str, *, at: str = "2026-11-22T09:00:00Z", **properties: Any) -> TestResponse:
        body = {
            "member_id": member["id"],
            "type": "app_review_posted",
            "ref": ref,
            "occurred_at": at,
            "properties": properties,
        }
        return client.post("/api/v1/events", json=body, headers=service)

    return post


@pytest.fixture
def good_review_action(client: FlaskClient, admin: Headers, review_type: dict[str, Any]) -> dict[str, Any]:
    """20 points for a review of 4 stars or more, at most 2 a day."""
    body = {
        "key": "good_app_review",
        "name": "Good app review",
        "points": 20,
        "max_per_period": 2,
        "period": "day",
        "event_type": "app_review_posted",
        "conditions": [{"property": "rating", "op": "gte", "value": 4}],
    }
    response = client.post("/api/v1/admin/engagement-actions", json=body, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def invalid_param(response: TestResponse) -> str:
    assert response.status_code == 422, response.json
    return response.json["invalid_params"][0]["name"]


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"rating": 9}, "properties.rating"),
        ({"rating": "five"}, "properties.rating"),
        ({"product": "shoes"}, "properties.rating"),
        ({"rating": 5, "colour": "red"}, "properties.colour"),
    ],
)
def test_an_event_against_its_schema_is_refused_naming_the_property(make_member, review_type, post_event, properties, field):
    assert invalid_param(post_event(make_member(), "r-1", **properties)) == field


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"type": "object", "properties": {"rating": {"type": "integr"}}}, "schema.properties.rating.type"),
        ({"type": "string"}, "schema.type"),
        ({"type": "object", "required": "rating"}, "schema.required"),
    ],
)
def test_an_invalid_schema_is_refused_naming_where(client, admin, schema, field):
    body = {"key": "bad", "name": "Bad", "schema": schema}
    assert invalid_param(client.post("/api/v1/admin/event-types", json=body, headers=admin)) == field


def test_a_replayed_event_answers_the_original_and_a_changed_one_is_a_conflict(make_member, review_type, post_event):
    member = make_member()
    first = post_event(member, "r-1", rating=5)
    again = post_event(member, "r-1", rating=5)
    changed = post_event(member, "r-1", rating=4)
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert again.json == first.json


def test_the_member_is_named_by_card_number_or_external_id(client, service, make_member, review_type):
    member = make_member(external_id="CRM-42")
    base = {"type": "app_review_posted", "occurred_at": "2026-11-22T09:00:00Z", "properties": {"rating": 3}}
    by_card = client.post("/api/v1/events", json={**base, "ref": "a", "card_number": member["card_number"]}, headers=service)
    by_crm = client.post("/api/v1/events", json={**base, "ref": "b", "external_id": "CRM-42"}, headers=service)
    assert [by_card.json["member_id"], by_crm.json["member_id"]] == [member["id"]] * 2
    both = {**base, "ref": "c", "external_id": "CRM-42", "member_id": member["id"]}
    assert invalid_param(client.post("/api/v1/events", json=both, headers=service)) == "member_id"
    unknown = {**base, "ref": "d", "external_id": "CRM-0"}
    assert invalid_param(client.post("/api/v1/events", json=unknown, headers=service)) == "external_id"


def test_an_event_earns_the_points_of_its_bound_action_when_its_conditions_hold_within_limits(
    client, admin, make_member, good_review_action, post_event
):
    member = make_member()
    points = [
        post_event(member, f"r-{n}", rating=rating).json["points_awarded"] for n, rating in enumerate((5, 2, 4, 5))
    ]
    assert points == [20, 0, 20, 0]  # a 2-star review earns nothing; the third good one is over 2 a day
    engagements = client.get(f"/api/v1/members/{member['id']}/engagements", headers=admin).json
    assert sorted((e["ref"], e["outcome"]) for e in engagements if e["action"] == "good_app_review") == [
        ("r-0", "awarded"), ("r-2", "awarded"), ("r-3", "limit_reached"),
    ]  # fmt: skip


def test_an_action_bound_to_an_event_is_not_reported_directly(client, service, make_member, good_review_action):
    body = {"member_id": make_member()["id"], "action": "good_app_review", "ref": "x", "occurred_at": "2026-11-22T09:00:00Z"}
    assert invalid_param(client.post("/api/v1/engagements", json=body, headers=service)) == "action"


@pytest.mark.parametrize(
    ("binding", "field"),
    [
        ({"event_type": "no_such_event"}, "event_type"),
        ({"event_type": "app_review_posted", "conditions": [{"property": "stars", "op": "gte", "value": 4}]}, "conditions.0.property"),
        ({"conditions": [{"property": "rating", "op": "gte", "value": 4}]}, "conditions"),
        ({"event_type": "app_review_posted", "conditions": [{"property": "rating", "op": "in", "value": 4}]}, "conditions.0.value"),
    ],
)
def test_a_faulty_binding_is_refused_naming_the_field(client, admin, review_type, binding, field):
    body = {"key": "bound", "name": "Bound", "points": 5, **binding}
    assert invalid_param(client.post("/api/v1/admin/engagement-actions", json=body, headers=admin)) == field


def test_an_event_counts_toward_a_badge_on_its_type(client, admin, make_member, review_type, post_event):
    badge = {"code": "critic", "name": "Critic", "metric": "custom_events", "qualifier": "app_review_posted", "target": 2}
    assert client.post("/api/v1/admin/badges", json=badge, headers=admin).status_code == 201
    member = make_member()
    post_event(member, "r-1", rating=1)
    post_event(member, "r-1", rating=1)  # a replay counts nothing
    earned = client.get(f"/api/v1/members/{member['id']}/badges", headers=admin).json["earned"]
    assert earned == []
    post_event(member, "r-2", rating=2)
    earned = client.get(f"/api/v1/members/{member['id']}/badges", headers=admin).json["earned"]
    assert [item["code"] for item in earned] == ["critic"]


def test_an_event_moves_a_challenge_step_on_its_bound_action(client, admin, make_member, good_review_action, post_event):
    challenge = {
        "code": "reviewer",
        "name": "Reviewer",
        "starts_at": "2026-11-21T00:00:00Z",
        "ends_at": "2026-11-29T00:00:00Z",
        "steps": [{"kind": "engagement", "action": "good_app_review", "count": 2}],
        "reward_points": 30,
    }
    assert client.post("/api/v1/admin/challenges", json=challenge, headers=admin).status_code == 201
    member = make_member()
    post_event(member, "r-1", rating=5)
    post_event(member, "r-2", rating=4)
    mine = client.get(f"/api/v1/members/{member['id']}/challenges", headers=admin).json
    assert [(item["code"], item["status"]) for item in mine] == [("reviewer", "completed")]


def test_an_event_enters_the_scenario_it_triggers(
    app: Flask, client, admin, clock: FrozenClock, tmp_path: Path, sessions, make_member, review_type, post_event
):
    add_scenario(
        client,
        admin,
        "thanks_for_the_review",
        [{"id": "thanks", "send": "note", "channels": ["in_app"]}],
        trigger={"event": "CustomEventRecorded", "where": {"event_type": "app_review_posted"}},
    )
    reviewer, other = make_member(), make_member()
    post_event(reviewer, "r-1", rating=5)
    run_due(app, make_runtime(app, tmp_path), clock)
    with sessions() as session:
        entered = session.scalars(select(Journey.member_id)).all()
    assert entered == [reviewer["id"]] and other["id"] not in entered
