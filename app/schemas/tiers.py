"""Tiers, tier history and card issuances."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate

from app.schemas.common import AtMostDecimals, Identifier, translations
from loyalty import identifiers
from loyalty.tiers.models import CARD_STATUSES

TIER_CODE = Identifier(identifiers.TIER_CODE)


class TierSchema(Schema):
    code = fields.String(required=True, validate=TIER_CODE)
    name = fields.String(required=True, validate=validate.Length(1, 80))
    rank = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100))
    threshold = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, 100_000_000),
        metadata={"description": "Qualifying points over the program's window to reach this tier"},
    )
    multiplier = fields.Decimal(
        as_string=True, load_default=Decimal(1), validate=[validate.Range(Decimal(0), Decimal(100)), AtMostDecimals(4)]
    )
    benefits = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list)
    translations = translations("name", lists=("benefits",))
    has_card = fields.Boolean(load_default=False)


class LadderSchema(Schema):
    tiers = fields.List(fields.Nested(TierSchema), required=True, validate=validate.Length(1, 20))


class TierChangeSchema(Schema):
    from_code = fields.String(allow_none=True)
    to_code = fields.String()
    reason = fields.String(metadata={"description": "enrolment, upgrade or downgrade"})
    qualifying_points = fields.Integer()
    changed_at = fields.AwareDateTime()


class CardIssuanceSchema(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    tier_code = fields.String()
    card_number = fields.String()
    status = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CardQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(CARD_STATUSES))


class CardUpdateSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(CARD_STATUSES))
