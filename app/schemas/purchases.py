"""Purchases, claims and returns."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.common import MAX_ID, Identifier, money
from loyalty import identifiers
from loyalty.program.models import CHANNELS

CODE = Identifier(identifiers.CODE)
STORE_CODE = Identifier(identifiers.STORE_CODE)
CARD = Identifier(identifiers.CARD_NUMBER)
CURRENCY = Identifier(identifiers.CURRENCY)


class PurchaseLineSchema(Schema):
    sku = fields.String(required=True, validate=CODE)
    category = fields.String(allow_none=True, validate=CODE)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 100_000))
    unit_price = money()


class PurchaseCreateSchema(Schema):
    store_code = fields.String(required=True, validate=STORE_CODE)
    receipt_no = fields.String(required=True, validate=CODE)
    member_id = fields.Integer(strict=True, validate=validate.Range(1, MAX_ID))
    card_number = fields.String(validate=CARD)
    occurred_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-22T10:15:00+01:00"})
    currency = fields.String(required=True, validate=CURRENCY)
    total = money()
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    lines = fields.List(fields.Nested(PurchaseLineSchema), load_default=list, validate=validate.Length(max=1000))


class PurchaseSchema(Schema):
    id = fields.Integer()
    store_code = fields.String()
    receipt_no = fields.String()
    member_id = fields.Integer(allow_none=True)
    channel = fields.String()
    currency = fields.String()
    total = fields.Decimal(as_string=True)
    occurred_at = fields.AwareDateTime()
    points_awarded = fields.Integer()
    points_balance = fields.Integer(
        allow_none=True, metadata={"description": "The member's balance right after this purchase"}
    )


class PurchaseLineOutSchema(Schema):
    line_no = fields.Integer()
    sku = fields.String()
    category = fields.String(allow_none=True)
    quantity = fields.Integer()
    unit_price = fields.Decimal(as_string=True)
    returned_quantity = fields.Integer()
    points = fields.Integer(metadata={"description": "What the line earned: what returning all of it takes back"})


class PurchaseDetailSchema(PurchaseSchema):
    returned_amount = fields.Decimal(as_string=True)
    points_reversed = fields.Integer()
    claimed_at = fields.AwareDateTime(allow_none=True)
    lines = fields.List(fields.Nested(PurchaseLineOutSchema))


class ClaimSchema(Schema):
    store_code = fields.String(required=True, validate=STORE_CODE)
    receipt_no = fields.String(required=True, validate=CODE)


class ReturnLineSchema(Schema):
    sku = fields.String(required=True, validate=CODE)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 100_000))


class ReturnCreateSchema(Schema):
    return_no = fields.String(required=True, validate=CODE)
    amount = money(required=False, positive=True)
    lines = fields.List(fields.Nested(ReturnLineSchema), validate=validate.Length(1, 1000))

    @validates_schema
    def _amount_or_lines(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("amount" in data) == ("lines" in data):
            raise ValidationError("Give either amount or lines.", field_name="amount")


class ReturnSchema(Schema):
    id = fields.Integer()
    purchase_id = fields.Integer()
    return_no = fields.String()
    amount = fields.Decimal(as_string=True)
    lines = fields.List(fields.Nested(ReturnLineSchema), allow_none=True)
    points_reversed = fields.Integer()
    points_balance = fields.Integer(attribute="balance_after", allow_none=True)
    created_at = fields.AwareDateTime()
