"""Data-subject requests: a member's export, and their erasure: afterwards no personal datum of theirs
is readable anywhere (through the API, or in any table), the ledger and KPIs keep their figures, and
the email enrols again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Base
from loyalty.clock import FrozenClock
from notifications.journeys.models import Journey
from tests.api.scenario_engine import add_scenario, make_runtime, run_due

Headers = dict[str, str]
PERSONAL = {
    "email": "zephyrine.quillfeather@example.com",
    "first_name": "Zéphyrine",
    "last_name": "Quillfeather",
    "phone": "+33699887766",
    "birth_date": "1987-02-14",
    "external_id": "CRM-PRIVATE-77",
}
DEVICE_TOKEN = "device-token-of-zephyrine"
ADDRESS = {"line1": "7 Quillfeather Lane", "line2": None, "postcode": "OX1 4AR", "city": "Wychwood", "country": "GB"}


@pytest.fixture
def subject(app: Flask, client, admin, clock: FrozenClock, tmp_path: Path, make_member, make_purchase, login) -> dict[str, Any]:
    """A member with a purchase, a device, a scenario's journey waiting and a message sent by name."""
    steps = [
        {"id": "hello", "send": "note", "channels": ["in_app"]},
        {"id": "later", "wait": "3d"},
        {"id": "again", "send": "note", "channels": ["in_app"]},
    ]
    add_scenario(client, admin, "hello", steps)
    member = make_member(**PERSONAL, postal_address=ADDRESS)
    make_purchase(member_id=member["id"])
    headers = login(member)
    response = client.post("/api/v1/me/push-subscriptions", json={"kind": "device", "token": DEVICE_TOKEN}, headers=headers)
    assert response.status_code == 201, response.json
    run_due(app, make_runtime(app, tmp_path), clock)
    return {**member, "headers": headers}


def personal_strings(member: dict[str, Any]) -> list[str]:
    return [*PERSONAL.values(), "Quillfeather", member["card_number"], DEVICE_TOKEN, "OX1 4AR", "Wychwood"]


def database_text(sessions: sessionmaker[Session]) -> str:
    """Every value of every table, as text."""
    with sessions() as session:
        return "\n".join(
            json.dumps([str(value) for value in row], ensure_ascii=False)
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table))
        )


def test_the_export_holds_the_members_data_for_an_admin_and_the_member_themself(client, admin, subject, make_member, login) -> None:
    for headers in (admin, subject["headers"]):
        response = client.get(f"/api/v1/members/{subject['id']}/export", headers=headers)
        assert response.status_code == 200, response.json
        document = response.json
        assert document["member"]["email"] == PERSONAL["email"] and "password_hash" not in document["member"]
        assert {"ledger_entries", "purchases", "purchase_lines", "messages", "journeys", "push_subscriptions"} <= set(document["records"])
    other = login(make_member())
    assert client.get(f"/api/v1/members/{subject['id']}/export", headers=other).status_code == 403


def test_after_erasure_no_personal_datum_is_readable_and_the_figures_are_kept(
    app, client, admin, clock, tmp_path, sessions, subject, make_member
) -> None:
    before = database_text(sessions)
    assert all(value in before for value in personal_strings(subject))
    ledger = client.get(f"/api/v1/members/{subject['id']}/ledger", headers=admin).json
    kpis = client.get("/api/v1/admin/scenarios/hello/kpis", headers=admin).json
    assert kpis["sent"] >= 1, kpis

    first = client.post(f"/api/v1/members/{subject['id']}/erase", headers=admin)
    again = client.post(f"/api/v1/members/{subject['id']}/erase", headers=admin)
    assert (first.status_code, again.status_code) == (201, 200) and again.json == first.json

    after = database_text(sessions)
    assert [value for value in personal_strings(subject) if value in after] == []
    member_id = subject["id"]
    routes = [
        f"/api/v1/members/{member_id}", f"/api/v1/members/{member_id}/export", f"/api/v1/members/{member_id}/messages",
        f"/api/v1/members/{member_id}/ledger", f"/api/v1/members/{member_id}/status", "/api/v1/admin/messages",
    ]  # fmt: skip
    for route in routes:
        text = client.get(route, headers=admin).get_data(as_text=True)
        assert [value for value in personal_strings(subject) if value in text] == [], route
    lookup = client.get("/api/v1/members/lookup", query_string={"card_number": subject["card_number"]}, headers=admin)
    assert lookup.status_code == 404
    assert client.get("/api/v1/me", headers=subject["headers"]).status_code == 401  # logged out everywhere
    assert client.get(f"/api/v1/members/{member_id}/ledger", headers=admin).json == ledger
    assert client.get("/api/v1/admin/scenarios/hello/kpis", headers=admin).json == kpis
    with sessions() as session:
        assert session.scalars(select(Journey.status).where(Journey.member_id == member_id)).all() == ["ended"]
    clock.advance(timedelta(days=4))
    run_due(app, make_runtime(app, tmp_path), clock)
    assert client.get("/api/v1/admin/scenarios/hello/kpis", headers=admin).json == kpis  # nothing more sent
    again_enrolled = make_member(email=PERSONAL["email"], card_number=subject["card_number"], external_id=PERSONAL["external_id"])
    assert again_enrolled["id"] != member_id
