"""Scenario pages: the list, the flow, the editor with errors at their path, versions and their diff,
activate and pause, the template preview and the KPI page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from loyalty.audit import AuditEntry
from loyalty.db import session_scope
from notifications.runtime import Runtime
from notifications.scenarios.models import Scenario
from tests.api.scenario_engine import add_scenario, make_runtime, run_due
from tests.backoffice.test_program_pages import error_beside

STEPS = [
    {"id": "hello", "send": "note"},
    {"id": "opened", "branch": "opened", "of": "hello", "within": "2d", "then": "thanks", "else": "reminder"},
    {"id": "reminder", "send": "note"},
    {"id": "thanks", "send": "note", "channels": ["in_app"]},
]


@pytest.fixture
def runtime(app: Flask, tmp_path: Path) -> Runtime:
    return make_runtime(app, tmp_path)


@pytest.fixture
def scenario(client, admin) -> str:  # type: ignore[no-untyped-def]
    add_scenario(client, admin, "promo", STEPS, holdout_percent=20, goal={"event": "purchase", "within_days": 7})
    return "promo"


def stored(sessions, key: str) -> Scenario:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        found = session.scalars(select(Scenario).where(Scenario.key == key)).one()
        session.expunge_all()
    return found


def test_the_list_shows_each_scenario_with_its_state_and_figures(staff_client, scenario) -> None:
    html = staff_client("analyst").get("/admin/scenarios").get_data(as_text=True)

    assert 'href="/admin/scenarios/promo"' in html
    assert 'class="status status-active"' in html


def test_the_scenario_is_drawn_as_a_flow_with_its_branches(staff_client, scenario) -> None:
    html = staff_client("marketer").get("/admin/scenarios/promo").get_data(as_text=True)

    assert "<svg" in html and 'id="flow"' in html
    for title in ("When MemberEnrolled", "Send note", "Opened hello?", "End"):
        assert title in html
    assert html.count('data-kind="send"') == 3
    assert ">yes</text>" in html and ">no</text>" in html


def test_a_broken_definition_shows_its_error_at_its_path_and_line_and_saves_nothing(
    staff_client, scenario, sessions
) -> None:
    marketer = staff_client("marketer")
    form = marketer.get("/admin/scenarios/promo/edit").get_data(as_text=True)
    text = re.search(r'<textarea[^>]*name="definition"[^>]*>(.*?)</textarea>', form, re.S).group(1)  # type: ignore[union-attr]
    broken = text.replace("then: thanks", "then: thank_you")

    response = marketer.post("/admin/scenarios/promo/edit", data={"name": "Promo", "definition": broken})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = error_beside(html, "definition")
    assert message.startswith("definition.steps[1].then: No step has the id 'thank_you'"), message
    line = next(number for number, content in enumerate(broken.splitlines(), 1) if "then: thank_you" in content)
    assert f"(line {line})" in message
    assert "thank_you" in html  # the input is kept
    assert stored(sessions, "promo").version == 1


def test_yaml_that_does_not_parse_is_refused_naming_its_line(staff_client, scenario) -> None:
    response = staff_client("marketer").post("/admin/scenarios/promo/edit", data={"definition": "steps: [\n  {id: a"})

    assert response.status_code == 422
    assert "Not valid YAML on line" in error_beside(response.get_data(as_text=True), "definition")


def test_a_new_definition_is_a_new_version_whose_diff_shows_the_change(staff_client, scenario, sessions) -> None:
    marketer = staff_client("marketer")
    form = marketer.get("/admin/scenarios/promo/edit").get_data(as_text=True)
    text = re.search(r'<textarea[^>]*name="definition"[^>]*>(.*?)</textarea>', form, re.S).group(1)  # type: ignore[union-attr]

    response = marketer.post("/admin/scenarios/promo/edit", data={"name": "Promo", "definition": text.replace("within: 2d", "within: 3d")})

    assert response.status_code == 302
    assert stored(sessions, "promo").version == 2
    diff = marketer.get("/admin/scenarios/promo/versions").get_data(as_text=True)
    assert '<span class="diff-removed">-   within: 2d</span>' in diff
    assert '<span class="diff-added">+   within: 3d</span>' in diff
    with session_scope(sessions) as session:
        entities = set(session.scalars(select(AuditEntry.entity).where(AuditEntry.actor == "staff:marketer@brand.example")))
    assert entities == {"scenarios", "scenario_versions"}


def test_pause_and_activate_change_the_state_and_are_audited(staff_client, scenario, sessions) -> None:
    marketer = staff_client("marketer")

    assert marketer.post("/admin/scenarios/promo/pause").status_code == 302
    assert stored(sessions, "promo").status == "paused"
    assert marketer.post("/admin/scenarios/promo/activate").status_code == 302
    assert stored(sessions, "promo").status == "active"
    with session_scope(sessions) as session:
        changes = [entry.after for entry in session.scalars(select(AuditEntry).where(AuditEntry.entity == "scenarios", AuditEntry.action == "update"))]
    assert [change["status"] for change in changes if change] == ["paused", "active"]


def test_a_new_scenario_is_created_from_the_form(staff_client, scenario, sessions) -> None:
    definition = "trigger: {event: MemberEnrolled}\nsteps:\n  - {id: hi, send: note}\n"

    response = staff_client("marketer").post(
        "/admin/scenarios/new", data={"key": "hello_again", "name": "Hello again", "definition": definition}
    )

    assert response.status_code == 302
    assert stored(sessions, "hello_again").status == "draft"


def test_the_preview_renders_the_template_for_a_member_on_every_channel(
    staff_client, scenario, make_member
) -> None:
    member = make_member(first_name="Aline")
    marketer = staff_client("marketer")

    html = marketer.get(f"/admin/scenarios/promo/preview?template=note&member={member['email']}").get_data(as_text=True)

    assert html.count("Hello Aline") >= 3
    for heading in ("Email", "SMS", "Push", "In-app"):
        assert f"<h2>{heading}</h2>" in html
    email = marketer.get(f"/admin/scenarios/promo/preview/email?template=note&member={member['id']}")
    assert email.status_code == 200 and "Hello Aline" in email.get_data(as_text=True)
    assert "style-src 'unsafe-inline'" in email.headers["Content-Security-Policy"]
    assert "sandbox" in email.headers["Content-Security-Policy"]


def test_the_kpi_page_draws_the_funnel_over_time_and_the_lift(
    staff_client, scenario, make_member, app, runtime, clock
) -> None:
    for _ in range(6):
        make_member()
    run_due(app, runtime, clock)

    html = staff_client("analyst").get("/admin/scenarios/promo/kpis?days=7").get_data(as_text=True)

    assert 'id="chart-funnel"' in html and 'id="chart-over-time"' in html
    assert "<polyline" in html and "<rect" in html
    assert "against the holdout" in html
    assert "22 Nov" in html  # the day the members entered, on the axis or in the figures


def test_an_analyst_reads_scenarios_but_cannot_change_them(staff_client, scenario, sessions) -> None:
    analyst = staff_client("analyst")

    assert analyst.get("/admin/scenarios/promo").status_code == 200
    assert "Pause" not in analyst.get("/admin/scenarios/promo").get_data(as_text=True)
    assert analyst.get("/admin/scenarios/promo/edit").status_code == 403
    assert analyst.post("/admin/scenarios/promo/pause").status_code == 403
    assert analyst.post("/admin/scenarios/promo/edit", data={"name": "Mine"}).status_code == 403
    assert stored(sessions, "promo").status == "active"


def test_a_scenario_that_does_not_exist_is_the_404_page(staff_client) -> None:
    response = staff_client("analyst").get("/admin/scenarios/nothing/kpis")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "No scenario has the key &#39;nothing&#39;." in response.get_data(as_text=True)
