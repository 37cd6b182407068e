"""The admin API of scenarios, templates, marketing pressure, blackouts, complaints and dead letters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from notifications.journeys.models import Journey
from notifications.messages.models import Message
from notifications.runtime import Runtime
from tests.api.scenario_engine import NOTE, add_scenario, make_runtime, run_due
from tests.servers import SmtpServer

Headers = dict[str, str]

SEND_NOTE = [{"id": "hello", "send": "note", "channels": ["email"]}]


def scenario_body(key: str = "hello", **definition: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": "Hello",
        "definition": {"trigger": {"event": "MemberEnrolled"}, "steps": SEND_NOTE, **definition},
    }


@pytest.fixture
def note(client: FlaskClient, admin: Headers) -> dict[str, Any]:
    response = client.put("/api/v1/admin/templates/note", json=NOTE, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def runtime(app: Flask, tmp_path: Path, smtp_server: SmtpServer) -> Runtime:
    return make_runtime(app, tmp_path, smtp_server=smtp_server)


def test_a_new_scenario_is_a_draft_at_version_1_until_activated(client, admin, note) -> None:
    created = client.post("/api/v1/admin/scenarios", json=scenario_body(), headers=admin)
    assert created.status_code == 201, created.json
    assert (created.json["status"], created.json["version"], created.json["is_marketing"]) == ("draft", 1, True)

    assert client.post("/api/v1/admin/scenarios/hello/activate", headers=admin).json["status"] == "active"
    assert client.get("/api/v1/admin/scenarios/hello", headers=admin).json["status"] == "active"
    assert client.post("/api/v1/admin/scenarios/hello/pause", headers=admin).json["status"] == "paused"
    assert [s["key"] for s in client.get("/api/v1/admin/scenarios", headers=admin).json] == ["hello"]


def test_a_changed_definition_is_a_new_version_and_the_old_one_is_kept(client, admin, note) -> None:
    client.post("/api/v1/admin/scenarios", json=scenario_body(), headers=admin)
    later = {**scenario_body()["definition"], "steps": [{"id": "wait", "wait": "1h"}, *SEND_NOTE]}

    changed = client.patch("/api/v1/admin/scenarios/hello", json={"definition": later}, headers=admin)
    renamed = client.patch("/api/v1/admin/scenarios/hello", json={"name": "Hi", "definition": later}, headers=admin)

    assert changed.json["version"] == 2 and changed.json["definition"] == later
    assert renamed.json["version"] == 2 and renamed.json["name"] == "Hi"
    versions = client.get("/api/v1/admin/scenarios/hello/versions", headers=admin).json
    assert [(v["version"], len(v["definition"]["steps"])) for v in versions] == [(2, 2), (1, 1)]


def test_a_journey_keeps_the_version_it_entered_with(client, admin, app, clock, make_member, sessions, runtime) -> None:
    add_scenario(client, admin, "hello", [{"id": "pause", "wait": "1d"}, *SEND_NOTE])
    member = make_member()
    run_due(app, runtime, clock)
    by_sms = [{"id": "pause", "wait": "1d"}, {"id": "hello", "send": "note", "channels": ["sms"]}]
    definition = {"trigger": {"event": "MemberEnrolled"}, "steps": by_sms}
    assert (
        client.patch("/api/v1/admin/scenarios/hello", json={"definition": definition}, headers=admin).json["version"]
        == 2
    )

    clock.advance(timedelta(days=1))
    run_due(app, runtime, clock)

    with sessions() as session:
        journey = session.scalars(select(Journey).where(Journey.member_id == member["id"])).one()
        channels = session.scalars(select(Message.channel).where(Message.copy_of_id.is_(None))).all()
    assert journey.scenario_version == 1 and channels == ["email"]


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (
            {"trigger": {"event": "MemberEnrolled"}, "steps": [{"id": "hello", "send": "nowhere"}]},
            "definition.steps[0].send",
        ),
        (
            {
                "trigger": {"event": "MemberEnrolled"},
                "steps": [
                    *SEND_NOTE,
                    {"id": "opened", "branch": "opened", "of": "hello", "within": "1d", "then": "gone"},
                ],
            },
            "definition.steps[1].then",
        ),
        ({"trigger": {"event": "NoSuchEvent"}, "steps": SEND_NOTE}, "definition.trigger.event"),
        ({"trigger": {"event": ["MemberEnrolled"]}, "steps": SEND_NOTE}, "definition.trigger.event"),
        ({"trigger": {"scan": "near_threshold"}, "steps": SEND_NOTE}, "definition.trigger.distance"),
        (
            {"trigger": {"event": "MemberEnrolled"}, "steps": [{"id": "gift", "grant": {"offer": ["X"]}}]},
            "definition.steps[0].grant.offer",
        ),
        (
            {"trigger": {"event": "MemberEnrolled"}, "steps": SEND_NOTE, "holdout_percent": 95},
            "definition.holdout_percent",
        ),
    ],
    ids=[
        "unknown template",
        "branch to an unknown step",
        "unknown event",
        "event not a name",
        "scan without its distance",
        "offer not a code",
        "holdout over 90 %",
    ],
)
def test_a_faulty_definition_is_refused_naming_the_field(client, admin, note, definition, field) -> None:
    response = client.post("/api/v1/admin/scenarios", json={**scenario_body(), "definition": definition}, headers=admin)
    assert response.status_code == 422, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == [field]
    assert client.get("/api/v1/admin/scenarios", headers=admin).json == []


def test_a_scenario_key_is_unique(client, admin, note) -> None:
    assert client.post("/api/v1/admin/scenarios", json=scenario_body(), headers=admin).status_code == 201
    again = client.post("/api/v1/admin/scenarios", json=scenario_body(), headers=admin)
    assert again.status_code == 409 and again.json["invalid_params"][0]["name"] == "key"


def test_templates_are_listed_read_and_replaced(client, admin) -> None:
    keys = [template["key"] for template in client.get("/api/v1/admin/templates", headers=admin).json]
    assert "welcome" in keys and keys == sorted(keys)

    created = client.put("/api/v1/admin/templates/note", json=NOTE, headers=admin)
    replaced = client.put(
        "/api/v1/admin/templates/note", json={**NOTE, "subject": "Hi {{ member.first_name }}"}, headers=admin
    )

    assert (created.status_code, replaced.status_code) == (201, 200)
    assert client.get("/api/v1/admin/templates/note", headers=admin).json["subject"] == "Hi {{ member.first_name }}"


@pytest.mark.parametrize("part", ["subject", "text", "html", "short"])
def test_a_template_part_that_does_not_compile_is_refused_naming_the_part(client, admin, part) -> None:
    response = client.put(
        "/api/v1/admin/templates/welcome", json={**NOTE, part: "{% if member %}unclosed"}, headers=admin
    )
    assert response.status_code == 422, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == [part]
    assert "{% if member %}" not in client.get("/api/v1/admin/templates/welcome", headers=admin).json[part]


def test_the_pressure_rules_are_read_and_replaced_with_local_times(client, admin) -> None:
    assert client.get("/api/v1/admin/marketing", headers=admin).json["quiet_start"] == "21:00"
    rules = {"cap_messages": 5, "cap_days": 10, "quiet_start": "22:30", "quiet_end": "07:15", "max_attempts": 3}

    saved = client.put("/api/v1/admin/marketing", json=rules, headers=admin)

    assert saved.status_code == 200, saved.json
    read = client.get("/api/v1/admin/marketing", headers=admin).json
    assert {name: read[name] for name in rules} == rules


def test_blackout_periods_are_added_listed_and_removed(client, admin) -> None:
    sale = {"name": "Winter sale", "starts_at": "2027-01-08T00:00:00+01:00", "ends_at": "2027-02-05T00:00:00+01:00"}
    created = client.post("/api/v1/admin/blackouts", json=sale, headers=admin)
    assert created.status_code == 201, created.json
    assert [b["name"] for b in client.get("/api/v1/admin/blackouts", headers=admin).json] == ["Winter sale"]

    assert client.delete(f"/api/v1/admin/blackouts/{created.json['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/admin/blackouts", headers=admin).json == []


def test_a_member_with_an_open_complaint_gets_no_marketing_until_it_is_closed(
    client, admin, service, app, clock, make_member, sessions, runtime
) -> None:
    add_scenario(client, admin, "hello", SEND_NOTE)
    member = make_member()
    complaint = client.post(
        f"/api/v1/members/{member['id']}/complaints", json={"subject": "Late delivery"}, headers=service
    )
    assert complaint.status_code == 201, complaint.json

    run_due(app, runtime, clock)

    with sessions() as session:
        message = session.scalars(select(Message).where(Message.channel == "email")).one()
    assert (message.status, message.reason) == ("suppressed", "open_complaint")
    closed = client.post(f"/api/v1/admin/complaints/{complaint.json['id']}/close", headers=admin)
    assert closed.status_code == 200 and closed.json["closed_at"] is not None
    assert client.post(f"/api/v1/admin/complaints/{complaint.json['id']}/close", headers=admin).status_code == 409
    listed = client.get(f"/api/v1/members/{member['id']}/complaints", headers=service).json
    assert [(c["subject"], c["closed_at"] is not None) for c in listed] == [("Late delivery", True)]


def dead_letters(client: FlaskClient, admin: Headers, **query: Any) -> dict[str, Any]:
    response = client.get("/api/v1/admin/messages", query_string={"status": "dead", **query}, headers=admin)
    assert response.status_code == 200, response.json
    return response.json


def test_a_refused_email_is_a_dead_letter_that_can_be_redriven_once_the_provider_is_fixed(
    client: FlaskClient,
    admin: Headers,
    app: Flask,
    clock: FrozenClock,
    make_member: Callable[..., dict[str, Any]],
    runtime: Runtime,
    smtp_server: SmtpServer,
    sessions: sessionmaker[Session],
) -> None:
    add_scenario(client, admin, "hello", SEND_NOTE)
    member = make_member()
    smtp_server.refuse_next(1)  # a permanent refusal: no retry
    run_due(app, runtime, clock)
    [dead] = dead_letters(client, admin)["items"]
    assert (dead["member_id"], dead["channel"], dead["attempts"]) == (member["id"], "email", 1)

    redriven = client.post(f"/api/v1/admin/messages/{dead['id']}/redrive", headers=admin)
    assert redriven.status_code == 200 and redriven.json["status"] == "queued"
    run_due(app, runtime, clock)

    assert dead_letters(client, admin)["items"] == []
    assert [mail.recipients for mail in smtp_server.messages] == [[member["email"]]]
    again = client.post(f"/api/v1/admin/messages/{dead['id']}/redrive", headers=admin)
    assert again.status_code == 409, again.json


def test_dead_letters_come_newest_first_a_page_at_a_time(
    client, admin, app, clock, make_member, runtime, smtp_server
) -> None:
    add_scenario(client, admin, "hello", SEND_NOTE)
    for _ in range(3):
        make_member()
    smtp_server.refuse_next(3)
    run_due(app, runtime, clock)

    first = dead_letters(client, admin, limit=2)
    second = dead_letters(client, admin, limit=2, before=first["next_before"])

    ids = [m["id"] for m in first["items"] + second["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    assert second["next_before"] is None
