"""Marketing pressure: the cap and quiet hours, blackout periods, and members' complaints."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.clock import now
from app.schemas.scenarios import (
    BlackoutSchema,
    ComplaintSchema,
    PressureSettingsSchema,
)
from loyalty.members.operations import get_member
from notifications.pressure import operations as pressure
from notifications.pressure.models import BlackoutPeriod, Complaint, PressureSettings

blp = Blueprint("marketing", __name__, url_prefix="/api/v1", description="Marketing pressure, blackouts, complaints")


@blp.route("/admin/marketing", methods=["GET"])
@require("admin")
@blp.response(200, PressureSettingsSchema)
def get_pressure() -> PressureSettings:
    """The marketing pressure rules."""
    return pressure.get_pressure_settings(db.session())


@blp.route("/admin/marketing", methods=["PUT"])
@require("admin")
@blp.arguments(PressureSettingsSchema)
@blp.response(200, PressureSettingsSchema)
def save_pressure(body: dict[str, Any]) -> PressureSettings:
    """Replace the pressure rules: the cap (messages per days), quiet hours ("HH:MM", the member's local
    time), delivery attempts before a dead letter."""
    return pressure.save_pressure_settings(db.session(), body, now=now())


@blp.route("/admin/blackouts", methods=["GET"])
@require("admin")
@blp.response(200, BlackoutSchema(many=True))
def list_blackouts() -> list[BlackoutPeriod]:
    """Blackout periods, by start."""
    return pressure.list_blackouts(db.session())


@blp.route("/admin/blackouts", methods=["POST"])
@require("admin")
@blp.arguments(BlackoutSchema)
@blp.response(201, BlackoutSchema)
def add_blackout(body: dict[str, Any]) -> BlackoutPeriod:
    """Pause marketing scenarios over a period (the big sale): journeys and messages wait for its end."""
    return pressure.add_blackout(db.session(), **body)


@blp.route("/admin/blackouts/<id:blackout_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def delete_blackout(blackout_id: int) -> None:
    """Remove a blackout period; what it held back goes out at the next pass."""
    pressure.delete_blackout(db.session(), blackout_id)


@blp.route("/members/<id:member_id>/complaints", methods=["POST"])
@require("admin", "service")
@blp.arguments(ComplaintSchema)
@blp.response(201, ComplaintSchema)
def open_complaint(body: dict[str, Any], member_id: int) -> Complaint:
    """Record a member's complaint: no marketing message reaches them until it is closed."""
    return pressure.open_complaint(
        db.session(), member_id, subject=body["subject"], note=body.get("note", ""), now=now()
    )


@blp.route("/members/<id:member_id>/complaints", methods=["GET"])
@require("admin", "service")
@blp.response(200, ComplaintSchema(many=True))
def member_complaints(member_id: int) -> list[Complaint]:
    """A member's complaints, open and closed, oldest first."""
    session = db.session()
    get_member(session, member_id)
    return pressure.member_complaints(session, member_id)


@blp.route("/admin/complaints/<id:complaint_id>/close", methods=["POST"])
@require("admin")
@blp.response(200, ComplaintSchema)
def close_complaint(complaint_id: int) -> Complaint:
    """Close a complaint: marketing reaches the member again. Closed already: 409."""
    return pressure.close_complaint(db.session(), complaint_id, now=now())
