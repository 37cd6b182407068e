"""Members: enrolment, profile, card lookup, ledger, adjustments and claims."""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import abort

from app import db
from app.api import Blueprint, examples
from app.auth.access import (
    current_principal,
    ensure_member_access,
    ensure_store,
    require,
)
from app.clock import now
from app.idempotency import idempotent
from app.schemas.ledger import (
    AdjustmentResultSchema,
    AdjustmentSchema,
    LedgerPageSchema,
    LedgerQuerySchema,
)
from app.schemas.members import (
    CardLookupQuerySchema,
    MemberCreateSchema,
    MemberLookupSchema,
    MemberSchema,
    MemberUpdateSchema,
    MemberViewSchema,
)
from app.schemas.purchases import ClaimSchema, PurchaseSchema
from loyalty.engagement.views import member_with_engagement
from loyalty.enrolment.operations import NewMember, enroll_member
from loyalty.ledger import operations as ledger
from loyalty.members import operations as members
from loyalty.members.models import Member
from loyalty.purchases import operations as purchases
from rewards.status import member_status

#: The fields of a member's profile, which the member views extend.
MEMBER_FIELDS = tuple(MemberSchema().fields)

blp = Blueprint("members", __name__, url_prefix="/api/v1", description="Members, their ledger and claims")


@blp.route("/members", methods=["POST"])
@require("admin", "service", "till")
@idempotent
@blp.arguments(MemberCreateSchema, example=examples.ENROLMENT)
@blp.response(201, MemberSchema)
def enrol_member(body: dict[str, Any]) -> Member:
    """Enrol a member (roles: admin, service, till). A duplicate email or card number is a 409."""
    source = current_principal().role
    return enroll_member(db.session(), NewMember(**body), now=now(), source=source)


@blp.route("/members/<id:member_id>", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.etag
@blp.response(200, MemberViewSchema)
def get_member(member_id: int) -> Member | dict[str, Any]:
    """A member's profile and balance (a member: only their own); for admin and service clients, with
    the engagement score and level. ``If-None-Match`` with the ``ETag`` of an unchanged member: 304."""
    principal = ensure_member_access(member_id)
    if principal.role not in ("admin", "service"):
        return members.get_member(db.session(), member_id)
    member, engagement = member_with_engagement(db.session(), member_id, now=now())
    return {**{name: member[name] for name in MEMBER_FIELDS}, "engagement": engagement}


@blp.route("/members/<id:member_id>", methods=["PATCH"])
@require("admin", "service", "member")
@blp.arguments(MemberUpdateSchema)
@blp.response(200, MemberSchema)
def update_member(changes: dict[str, Any], member_id: int) -> Member:
    """Change a member's profile (a member: only their own profile, consents and password)."""
    principal = ensure_member_access(member_id)
    if principal.role == "member":
        refused = sorted(set(changes) - members.SELF_SERVICE_FIELDS)
        if refused:
            abort(403, description=f"A member cannot change {', '.join(refused)}.")
    return members.update_member(db.session(), member_id, changes, now=now())


@blp.route("/members/lookup", methods=["GET"])
@require("admin", "service", "till")
@blp.arguments(CardLookupQuerySchema, location="query")
@blp.response(200, MemberLookupSchema)
def lookup_member(query: dict[str, str]) -> dict[str, Any]:
    """Find a member by card number, as a till does when a card is scanned: the member and the same
    status document the app shows."""
    session = db.session()
    member = members.find_by_card(session, query["card_number"])
    return {**{name: getattr(member, name) for name in MEMBER_FIELDS}, "status": member_status(session, member, now=now())}


@blp.route("/me", methods=["GET"])
@require("member")
@blp.response(200, MemberSchema)
def get_me() -> Member:
    """The calling member's own profile and balance."""
    member_id = current_principal().member_id
    assert member_id is not None
    return members.get_member(db.session(), member_id)


@blp.route("/members/<id:member_id>/ledger", methods=["GET"])
@require("admin", "service", "member")
@blp.arguments(LedgerQuerySchema, location="query")
@blp.response(200, LedgerPageSchema)
def member_ledger(query: dict[str, int], member_id: int) -> dict[str, Any]:
    """A member's points history, newest first; pass ``next_before`` as ``before`` for the next page."""
    ensure_member_access(member_id)
    session = db.session()
    members.get_member(session, member_id)
    page = ledger.list_entries(session, member_id, limit=query["limit"], before=query.get("before"))
    return {"items": page.entries, "next_before": page.next_before}


@blp.route("/members/<id:member_id>/adjustments", methods=["POST"])
@require("admin")
@idempotent
@blp.arguments(AdjustmentSchema)
@blp.response(201, AdjustmentResultSchema)
def adjust_points(body: dict[str, Any], member_id: int) -> dict[str, Any]:
    """Credit or debit points by hand, with a mandatory reason (admin). The balance may go negative."""
    session = db.session()
    members.get_member(session, member_id)
    posting = ledger.adjust_points(
        session,
        member_id=member_id,
        points=body["points"],
        reason=body["reason"],
        actor=current_principal().subject,
        now=now(),
    )
    return {"entry": posting.entry, "points_balance": posting.balance}


@blp.route("/members/<id:member_id>/claims", methods=["POST"])
@require("admin", "service", "till", "member")
@blp.arguments(ClaimSchema)
@blp.response(201, PurchaseSchema)
@blp.alt_response(200, schema=PurchaseSchema, description="The purchase was already claimed by this member")
def claim_purchase(body: dict[str, str], member_id: int) -> Any:
    """Attach an anonymous purchase to a member, within the program's claim window, and award its points."""
    ensure_member_access(member_id)
    ensure_store(body["store_code"])
    session = db.session()
    members.get_member(session, member_id)
    result = purchases.claim_purchase(
        session, member_id=member_id, store_code=body["store_code"], receipt_no=body["receipt_no"], now=now()
    )
    return result.receipt, 201 if result.created else 200
