"""Scenarios (versioned definitions), their KPIs, and the message templates (admin)."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.clock import now
from app.schemas.scenarios import (
    ScenarioKpiLineSchema,
    ScenarioKpisSchema,
    ScenarioSchema,
    ScenarioUpdateSchema,
    ScenarioVersionSchema,
    TemplateSchema,
)
from notifications.messages import kpis
from notifications.scenarios import operations as scenarios
from notifications.scenarios import templates
from notifications.scenarios.models import MessageTemplate, Scenario, ScenarioVersion

blp = Blueprint("scenarios", __name__, url_prefix="/api/v1/admin", description="Scenarios, KPIs and templates (admin)")


@blp.route("/scenarios", methods=["GET"])
@require("admin")
@blp.response(200, ScenarioSchema(many=True))
def list_scenarios() -> list[Scenario]:
    """Every scenario with its current definition."""
    return scenarios.list_scenarios(db.session())


@blp.route("/scenarios", methods=["POST"])
@require("admin")
@blp.arguments(ScenarioSchema)
@blp.response(201, ScenarioSchema)
def create_scenario(body: dict[str, Any]) -> Scenario:
    """Create a scenario (``draft`` unless a status is given); its definition is version 1. A faulty
    definition is a 422 naming the field (``definition.steps[2].then``)."""
    return scenarios.create_scenario(db.session(), body, now=now())


@blp.route("/scenarios/kpis", methods=["GET"])
@require("admin")
@blp.response(200, ScenarioKpiLineSchema(many=True))
def kpi_summary() -> list[dict[str, Any]]:
    """One line per scenario: entered, sent, opened, clicked, converted, revenue, rates, lift."""
    return kpis.kpi_summary(db.session())


@blp.route("/scenarios/<key>", methods=["GET"])
@require("admin")
@blp.response(200, ScenarioSchema)
def get_scenario(key: str) -> Scenario:
    """A scenario and its current definition."""
    return scenarios.get_scenario(db.session(), key)


@blp.route("/scenarios/<key>", methods=["PATCH"])
@require("admin")
@blp.arguments(ScenarioUpdateSchema)
@blp.response(200, ScenarioSchema)
def update_scenario(changes: dict[str, Any], key: str) -> Scenario:
    """Change a scenario; a new definition becomes a new version (journeys in progress keep theirs)."""
    return scenarios.update_scenario(db.session(), key, changes, now=now())


@blp.route("/scenarios/<key>/activate", methods=["POST"])
@require("admin")
@blp.response(200, ScenarioSchema)
def activate_scenario(key: str) -> Scenario:
    """Let members enter the scenario (its triggers and scans run)."""
    return scenarios.set_status(db.session(), key, "active", now=now())


@blp.route("/scenarios/<key>/pause", methods=["POST"])
@require("admin")
@blp.response(200, ScenarioSchema)
def pause_scenario(key: str) -> Scenario:
    """Let nobody enter the scenario any more; journeys in progress go on."""
    return scenarios.set_status(db.session(), key, "paused", now=now())


@blp.route("/scenarios/<key>/versions", methods=["GET"])
@require("admin")
@blp.response(200, ScenarioVersionSchema(many=True))
def scenario_versions(key: str) -> list[ScenarioVersion]:
    """Every version of the scenario's definition, newest first."""
    return scenarios.scenario_versions(db.session(), key)


@blp.route("/scenarios/<key>/kpis", methods=["GET"])
@require("admin")
@blp.response(200, ScenarioKpisSchema)
def scenario_kpis(key: str) -> dict[str, Any]:
    """The scenario's figures, per variant, and its conversion against its holdout group."""
    return kpis.scenario_kpis(db.session(), key)


@blp.route("/templates", methods=["GET"])
@require("admin")
@blp.response(200, TemplateSchema(many=True))
def list_templates() -> list[MessageTemplate]:
    """Every message template."""
    return templates.list_templates(db.session())


@blp.route("/templates/<key>", methods=["GET"])
@require("admin")
@blp.response(200, TemplateSchema)
def get_template(key: str) -> MessageTemplate:
    """One message template's parts."""
    return templates.get_template(db.session(), key)


@blp.route("/templates/<key>", methods=["PUT"])
@require("admin")
@blp.arguments(TemplateSchema)
@blp.response(200, TemplateSchema)
@blp.alt_response(201, schema=TemplateSchema, description="A new template")
def save_template(body: dict[str, Any], key: str) -> Any:
    """Create or replace a template; a part that does not compile is a 422 naming the part."""
    template, created = templates.save_template(db.session(), key, body, now=now())
    return template, 201 if created else 200
