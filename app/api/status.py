"""The status document, the same for the app, the web and the till."""

from __future__ import annotations

from app import db
from app.api import Blueprint
from app.auth.access import current_principal, ensure_member_access, require
from app.clock import now
from app.languages import CONTENT_LANGUAGE
from app.schemas.status import StatusSchema
from rewards.status import MemberStatus, status_of

blp = Blueprint("status", __name__, url_prefix="/api/v1", description="Where a member stands")


@blp.route("/members/<id:member_id>/status", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.etag
@blp.response(200, StatusSchema, headers=CONTENT_LANGUAGE)
def get_member_status(member_id: int) -> MemberStatus:
    """Balance, pending, lifetime and qualifying points; tier and next tier; next threshold; points
    expiring soon; rewards available now. With ``If-None-Match`` naming the document's ``ETag``, an
    unchanged document is a 304 without a body."""
    ensure_member_access(member_id)
    session = db.session()
    return status_of(session, member_id, now=now())


@blp.route("/me/status", methods=["GET"])
@require("member")
@blp.etag
@blp.response(200, StatusSchema, headers=CONTENT_LANGUAGE)
def my_status() -> MemberStatus:
    """The calling member's status document."""
    member_id = current_principal().member_id
    assert member_id is not None
    session = db.session()
    return status_of(session, member_id, now=now())
