"""Ledger pages and adjustments."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from app.schemas.common import MAX_ID


class LedgerQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before = fields.Integer(
        validate=validate.Range(1, MAX_ID), metadata={"description": "next_before of the previous page"}
    )


class LedgerEntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "earn, bonus, redeem, reverse, expire or adjust"})
    points = fields.Integer(metadata={"description": "Signed: negative for debits"})
    balance_after = fields.Integer()
    reason = fields.String()
    source_type = fields.String(allow_none=True)
    source_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerEntrySchema))
    next_before = fields.Integer(allow_none=True, metadata={"description": "Cursor of the next page; null on the last"})


def _not_zero(value: int) -> None:
    if value == 0:
        raise ValidationError("Must not be zero.")


class AdjustmentSchema(Schema):
    points = fields.Integer(required=True, strict=True, validate=[validate.Range(-1_000_000, 1_000_000), _not_zero])
    reason = fields.String(required=True, validate=validate.Length(3, 200))


class AdjustmentResultSchema(Schema):
    entry = fields.Nested(LedgerEntrySchema)
    points_balance = fields.Integer()
