"""The reward catalog, redemptions, vouchers at the till, and point thresholds."""

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
from app.languages import CONTENT_LANGUAGE
from app.schemas.rewards import (
    CatalogItemSchema,
    CatalogQuerySchema,
    RedemptionSchema,
    RewardSchema,
    RewardUpdateSchema,
    ThresholdListSchema,
    VoucherSchema,
    VoucherUseSchema,
)
from loyalty.members.operations import get_member
from rewards.catalog import operations as catalog
from rewards.catalog.models import Reward
from rewards.catalog.operations import CatalogItem
from rewards.thresholds import operations as thresholds
from rewards.vouchers import operations as vouchers
from rewards.vouchers.models import Voucher

blp = Blueprint("rewards", __name__, url_prefix="/api/v1", description="Rewards, vouchers and point thresholds")


@blp.route("/rewards", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.arguments(CatalogQuerySchema, location="query")
@blp.response(200, CatalogItemSchema(many=True), headers=CONTENT_LANGUAGE)
def list_catalog(query: dict[str, int]) -> list[CatalogItem]:
    """The rewards a member can get now, with ``affordable``: a member's token sees their own; clients
    pass ``member_id``, or get the whole active catalog without it."""
    session = db.session()
    principal = current_principal()
    member_id = principal.member_id if principal.role == "member" else query.get("member_id")
    if member_id is None:
        at = now()
        return [
            CatalogItem(reward=reward, affordable=False)
            for reward in catalog.list_rewards(session)
            if reward.is_available(at) and not reward.is_offer
        ]
    return catalog.catalog_for(session, get_member(session, member_id), now=now())


@blp.route("/members/<id:member_id>/redemptions", methods=["POST"])
@require("admin", "service", "member")
@idempotent
@blp.arguments(RedemptionSchema, example=examples.REDEMPTION)
@blp.response(201, VoucherSchema, headers=CONTENT_LANGUAGE)
def redeem_reward(body: dict[str, str], member_id: int) -> dict[str, Any]:
    """Spend points on a reward: 201 with the voucher. Not enough points: 422; out of stock: 409."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return voucher_document(catalog.redeem_reward(session, member_id=member_id, reward_code=body["reward_code"], now=now()))


@blp.route("/members/<id:member_id>/vouchers", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, VoucherSchema(many=True), headers=CONTENT_LANGUAGE)
def member_vouchers(member_id: int) -> list[dict[str, Any]]:
    """A member's vouchers, newest first, with their state (issued, redeemed, cancelled, expired)."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return [voucher_document(voucher) for voucher in vouchers.member_vouchers(session, member_id)]


@blp.route("/vouchers/<code>", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.response(200, VoucherSchema, headers=CONTENT_LANGUAGE)
def validate_voucher(code: str) -> dict[str, Any]:
    """Look a voucher up, as a till does before accepting it: its state says whether it can be used."""
    return voucher_document(_visible_voucher(code))


@blp.route("/vouchers/<code>/redeem", methods=["POST"])
@require("admin", "service", "till")
@blp.arguments(VoucherUseSchema, example=examples.VOUCHER_USE)
@blp.response(201, VoucherSchema, headers=CONTENT_LANGUAGE)
@blp.alt_response(200, schema=VoucherSchema, description="The same till and receipt again: the original answer")
def use_voucher(body: dict[str, str], code: str) -> Any:
    """Use a voucher once for a receipt. Used already: 409; expired: 422; a till only for its store."""
    ensure_store(body["store_code"])
    result = vouchers.use_voucher(
        db.session(), code, store_code=body["store_code"], receipt_no=body["receipt_no"], now=now()
    )
    return voucher_document(result.voucher), 201 if result.created else 200


@blp.route("/vouchers/<code>/cancel", methods=["POST"])
@require("admin", "service", "member")
@blp.response(200, VoucherSchema, headers=CONTENT_LANGUAGE)
def cancel_voucher(code: str) -> dict[str, Any]:
    """Cancel an unused voucher and give its points back (a member: their own)."""
    _visible_voucher(code)
    return voucher_document(vouchers.cancel_voucher(db.session(), code, now=now()))


@blp.route("/admin/rewards", methods=["GET"])
@require("admin")
@blp.response(200, RewardSchema(many=True))
def admin_list_rewards() -> list[Reward]:
    """The whole catalog, active or not."""
    return catalog.list_rewards(db.session())


@blp.route("/admin/rewards", methods=["POST"])
@require("admin")
@blp.arguments(RewardSchema)
@blp.response(201, RewardSchema)
def admin_create_reward(body: dict[str, Any]) -> Reward:
    """Add a reward to the catalog."""
    return catalog.save_reward(db.session(), body)


@blp.route("/admin/rewards/<code>", methods=["PATCH"])
@require("admin")
@blp.arguments(RewardUpdateSchema)
@blp.response(200, RewardSchema)
def admin_update_reward(changes: dict[str, Any], code: str) -> Reward:
    """Change a reward (its stock, cost, window…); issued vouchers keep their terms."""
    return catalog.save_reward(db.session(), changes, code=code)


@blp.route("/admin/thresholds", methods=["GET"])
@require("admin")
@blp.response(200, ThresholdListSchema)
def admin_list_thresholds() -> dict[str, Any]:
    """The point thresholds and the rewards they unlock."""
    return {"thresholds": thresholds.all_thresholds(db.session())}


@blp.route("/admin/thresholds", methods=["PUT"])
@require("admin")
@blp.arguments(ThresholdListSchema)
@blp.response(200, ThresholdListSchema)
def admin_save_thresholds(body: dict[str, Any]) -> dict[str, Any]:
    """Replace the point thresholds; each names an existing reward."""
    return {"thresholds": thresholds.save_thresholds(db.session(), body["thresholds"])}


def voucher_document(voucher: Voucher) -> dict[str, Any]:
    """A voucher as the API shows it, with its state at this instant."""
    return {
        **{column: getattr(voucher, column) for column in VOUCHER_FIELDS},
        "reward_code": voucher.reward.code,
        "reward_name": voucher.reward.name,
        "reward": voucher.reward,
        "status": voucher.state(now()),
    }


VOUCHER_FIELDS = (
    "code", "member_id", "kind", "amount", "percent", "points_cost", "source", "issued_at", "expires_at",
    "redeemed_at", "redeemed_store_code", "redeemed_receipt_no", "cancelled_at",
)


def _visible_voucher(code: str) -> Voucher:
    """The voucher, if the caller may see it: a member only their own (others get 404)."""
    voucher = vouchers.get_voucher(db.session(), code)
    principal = current_principal()
    if principal.role == "member" and voucher.member_id != principal.member_id:
        abort(404, description="No voucher has this code.")
    return voucher
