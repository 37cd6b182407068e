"""Program configuration: settings and earning rules (admin only)."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.schemas.program import (
    EarningRuleSchema,
    EarningRuleUpdateSchema,
    ProgramSettingsSchema,
    TranslationReportSchema,
)
from loyalty.program import operations as program
from loyalty.program.models import EarningRule, ProgramSettings
from loyalty.purchases import rules
from notifications.translations import TranslationReport, missing_translations

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Program configuration (admin)")


@blp.route("/program", methods=["GET"])
@require("admin")
@blp.response(200, ProgramSettingsSchema)
def get_program() -> ProgramSettings:
    """The program's settings."""
    return program.get_settings(db.session())


@blp.route("/program", methods=["PATCH"])
@require("admin")
@blp.arguments(ProgramSettingsSchema)
@blp.response(200, ProgramSettingsSchema)
def update_program(changes: dict[str, Any]) -> ProgramSettings:
    """Change the program's settings (the base earning rate, minimum amount, claim window, defaults)."""
    return program.update_settings(db.session(), changes)


@blp.route("/translations/missing", methods=["GET"])
@require("admin")
@blp.response(200, TranslationReportSchema)
def translations_missing() -> TranslationReport:
    """The texts not translated yet in a language the program declares (``locales``), by kind (template,
    tier, reward, badge, challenge, quiz, game), key and locale."""
    return missing_translations(db.session())


@blp.route("/earning-rules", methods=["GET"])
@require("admin")
@blp.response(200, EarningRuleSchema(many=True))
def list_rules() -> list[EarningRule]:
    """Every earning rule: category multipliers and promotions."""
    return rules.list_rules(db.session())


@blp.route("/earning-rules", methods=["POST"])
@require("admin")
@blp.arguments(EarningRuleSchema)
@blp.response(201, EarningRuleSchema)
def create_rule(body: dict[str, Any]) -> EarningRule:
    """Add a category multiplier or a time-boxed promotion (the largest live promotion applies)."""
    return rules.create_rule(db.session(), body)


@blp.route("/earning-rules/<id:rule_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(EarningRuleUpdateSchema)
@blp.response(200, EarningRuleSchema)
def update_rule(changes: dict[str, Any], rule_id: int) -> EarningRule:
    """Change an earning rule; set ``is_active`` to false to suspend it."""
    return rules.update_rule(db.session(), rule_id, changes)


@blp.route("/earning-rules/<id:rule_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def delete_rule(rule_id: int) -> None:
    """Remove an earning rule (points already awarded stay as they are)."""
    rules.delete_rule(db.session(), rule_id)
