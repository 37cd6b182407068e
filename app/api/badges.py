"""Badges: the catalog, a member's badges (earned and in progress), and their configuration."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import current_principal, ensure_member_access, require
from app.languages import CONTENT_LANGUAGE
from app.schemas.badges import BadgeCatalogSchema, BadgeSchema, BadgeUpdateSchema, MemberBadgesSchema
from loyalty.members.operations import get_member
from rewards.badges import operations as badges
from rewards.badges.models import Badge
from rewards.badges.operations import BadgeView, MemberBadges

blp = Blueprint("badges", __name__, url_prefix="/api/v1", description="Badges and their levels")


@blp.route("/badges", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.response(200, BadgeCatalogSchema(many=True), headers=CONTENT_LANGUAGE)
def badge_catalog() -> list[BadgeView]:
    """The active badges and their levels; a hidden badge appears only to a member who earned it."""
    return badges.badge_catalog(db.session(), member_id=current_principal().member_id)


@blp.route("/members/<id:member_id>/badges", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, MemberBadgesSchema, headers=CONTENT_LANGUAGE)
def member_badges(member_id: int) -> MemberBadges:
    """The badges a member earned (levels and dates, latest first) and the ones in progress (current
    figure, next level's target, percentage). Hidden badges appear once earned."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return badges.member_badges(session, member_id)


@blp.route("/admin/badges", methods=["GET"])
@require("admin")
@blp.response(200, BadgeSchema(many=True))
def admin_list_badges() -> list[Badge]:
    """Every badge, active or not, with its levels."""
    return badges.list_badges(db.session())


@blp.route("/admin/badges", methods=["POST"])
@require("admin")
@blp.arguments(BadgeSchema)
@blp.response(201, BadgeSchema)
def admin_create_badge(body: dict[str, Any]) -> Badge:
    """Add a badge: a metric, and a single ``target`` or ``levels`` whose targets rise."""
    return badges.save_badge(db.session(), body)


@blp.route("/admin/badges/<code>", methods=["PATCH"])
@require("admin")
@blp.arguments(BadgeUpdateSchema)
@blp.response(200, BadgeSchema)
def admin_update_badge(changes: dict[str, Any], code: str) -> Badge:
    """Change a badge; ``levels`` (or ``target``) replace its levels. Levels already earned stay earned."""
    return badges.save_badge(db.session(), changes, code=code)


@blp.route("/admin/badges/<code>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def admin_delete_badge(code: str) -> None:
    """Remove a badge nobody earned and no challenge gives (409 otherwise: deactivate it)."""
    badges.delete_badge(db.session(), code)
