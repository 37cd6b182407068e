"""Purchases and returns, from tills, the web shop and the app."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import joinedload
from werkzeug.exceptions import abort

from app import db
from app.api import Blueprint, examples
from app.auth.access import current_principal, ensure_store, require
from app.clock import now
from app.schemas.purchases import (
    PurchaseCreateSchema,
    PurchaseDetailSchema,
    PurchaseSchema,
    ReturnCreateSchema,
    ReturnSchema,
)
from loyalty.purchases import operations as purchases
from loyalty.receipts.models import Purchase

blp = Blueprint("purchases", __name__, url_prefix="/api/v1", description="Purchases and returns")


@blp.route("/purchases", methods=["POST"])
@require("admin", "service", "till")
@blp.arguments(PurchaseCreateSchema, example=examples.PURCHASE)
@blp.response(201, PurchaseSchema)
@blp.alt_response(200, schema=PurchaseSchema, description="The same receipt again: the original answer")
def record_purchase(body: dict[str, Any]) -> Any:
    """Record a purchase and award its points, once per ``(store_code, receipt_no)``.

    A till may post only for its own store. The same receipt posted again with the same content is
    answered 200 with the original result; with different content, 409.
    """
    ensure_store(body["store_code"])
    data = purchases.PurchaseInput(
        **{key: value for key, value in body.items() if key != "lines"},
        lines=tuple(purchases.LineInput(**line) for line in body["lines"]),
    )
    try:
        result = purchases.record_purchase(db.session(), data, now=now())
    except purchases.RecordedMeanwhile:  # answered as the replay it turned out to be
        db.session().rollback()
        result = purchases.record_purchase(db.session(), data, now=now())
    return result.receipt, 201 if result.created else 200


@blp.route("/purchases/<id:purchase_id>", methods=["GET"])
@require("admin", "service", "till", "member")
@blp.response(200, PurchaseDetailSchema)
def get_purchase(purchase_id: int) -> dict[str, Any]:
    """A purchase with its lines and what was returned (a till: its store's; a member: their own)."""
    purchase = _visible_purchase(purchase_id)
    return {
        **vars(purchases.PurchaseReceipt.of(purchase)),
        "returned_amount": purchase.returned_amount,
        "points_reversed": purchase.points_reversed,
        "claimed_at": purchase.claimed_at,
        "lines": purchase.lines,
    }


@blp.route("/purchases/<id:purchase_id>/returns", methods=["POST"])
@require("admin", "service", "till")
@blp.arguments(ReturnCreateSchema, example=examples.RETURN)
@blp.response(201, ReturnSchema)
@blp.alt_response(200, schema=ReturnSchema, description="The same return again: the original answer")
def record_return(body: dict[str, Any], purchase_id: int) -> Any:
    """Record goods brought back, by ``amount`` or ``lines``, and reverse the points in proportion.

    Idempotent on ``return_no``. Returning more than was bought is a 422.
    """
    purchase = _visible_purchase(purchase_id)  # held: the return works on this copy, lines included
    amount: Decimal | None = body.get("amount")
    lines = [(line["sku"], line["quantity"]) for line in body.get("lines", [])]
    result = purchases.record_return(
        db.session(), purchase_id=purchase.id, return_no=body["return_no"], amount=amount, lines=lines, now=now()
    )
    return result.purchase_return, 201 if result.created else 200


def _visible_purchase(purchase_id: int) -> Purchase:
    """The purchase, if the caller may see it: a till only its store's, a member only their own."""
    purchase = db.session().get(Purchase, purchase_id, options=[joinedload(Purchase.lines)])
    principal = current_principal()
    if purchase is None or (principal.role == "member" and purchase.member_id != principal.member_id):
        abort(404, description=f"Purchase {purchase_id} does not exist.")
    ensure_store(purchase.store_code)
    return purchase
