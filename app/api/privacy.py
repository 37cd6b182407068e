"""Data-subject requests (GDPR): everything held about a member, and the erasure of their personal data."""

from __future__ import annotations

from typing import Any

from app import db, models
from app.api import Blueprint
from app.auth.access import current_principal, ensure_member_access, require
from app.auth.sessions import revoke_member_sessions
from app.clock import now
from app.schemas.privacy import ErasureSchema, MemberExportSchema
from notifications.privacy.erasure import erase_member
from notifications.privacy.export import export_member

blp = Blueprint("privacy", __name__, url_prefix="/api/v1", description="Data-subject requests: export and erasure")


@blp.route("/members/<id:member_id>/export", methods=["GET"])
@require("admin", "member")
@blp.response(200, MemberExportSchema)
def export_member_data(member_id: int) -> dict[str, Any]:
    """Everything the program holds about the member, as one JSON document (an admin, or the member)."""
    ensure_member_access(member_id)
    return export_member(db.session(), member_id, models.Base.metadata)


@blp.route("/members/<id:member_id>/erase", methods=["POST"])
@require("admin")
@blp.response(201, ErasureSchema)
@blp.alt_response(200, schema=ErasureSchema, description="Erased before: nothing changes")
def erase_member_data(member_id: int) -> Any:
    """Erase the member's personal data (docs/integrations.md says what is kept and why); the member is
    logged out everywhere."""
    session = db.session()
    erasure, created = erase_member(session, member_id, actor=current_principal().subject, now=now())
    revoke_member_sessions(session, member_id, now=now())
    return erasure, 201 if created else 200
