"""Segments as a scenario's audience: only the segment's members enter (on the core test program, whose
templates need no translations)."""

from __future__ import annotations

from sqlalchemy import select

from notifications.journeys.models import Journey
from notifications.scenarios.models import Scenario
from tests.api.scenario_engine import NOTE, add_scenario, make_runtime, run_due


def test_only_the_members_of_its_segment_enter_a_scenario(app, client, admin, clock, tmp_path, sessions, make_member) -> None:
    sms = {"key": "sms_readers", "name": "SMS readers", "definition": {"consent": {"sms": True}}}
    assert client.post("/api/v1/admin/segments", json=sms, headers=admin).status_code == 201
    steps = [{"id": "hello", "send": "note", "channels": ["in_app"]}]
    add_scenario(client, admin, "sms_welcome", steps, entry={"segment": "sms_readers"})
    reader = make_member(consents={"email": True, "sms": True, "push": False})
    make_member(consents={"email": True, "sms": False, "push": False})
    run_due(app, make_runtime(app, tmp_path), clock)
    with sessions() as session:
        entered = session.scalars(select(Journey.member_id).join(Scenario).where(Scenario.key == "sms_welcome")).all()
    assert entered == [reader["id"]]


def test_a_scenario_naming_an_unknown_segment_is_refused(client, admin) -> None:
    assert client.put("/api/v1/admin/templates/note", json=NOTE, headers=admin).status_code in (200, 201)
    definition = {"trigger": {"event": "MemberEnrolled"}, "steps": [{"id": "hello", "send": "note"}], "entry": {"segment": "nobody"}}
    response = client.post("/api/v1/admin/scenarios", json={"key": "s", "name": "S", "definition": definition}, headers=admin)
    assert response.status_code == 422 and response.json["invalid_params"][0]["name"] == "definition.entry.segment"
