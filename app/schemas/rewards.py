"""Rewards, redemptions, vouchers and point thresholds."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import MAX_ID, Identifier, TranslatedString, money, plausible_instant, translations
from app.schemas.purchases import CODE, STORE_CODE
from app.schemas.tiers import TIER_CODE
from loyalty import identifiers
from rewards.catalog.models import REWARD_KINDS

REWARD_CODE = Identifier(identifiers.REWARD_CODE)


class RewardSchema(Schema):
    code = fields.String(required=True, validate=REWARD_CODE)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(max=2000))
    kind = fields.String(required=True, validate=validate.OneOf(REWARD_KINDS))
    amount = money(required=False, positive=True, allow_none=True)
    percent = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 100))
    cost_points = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10_000_000))
    min_tier_code = fields.String(allow_none=True, validate=TIER_CODE)
    stock = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 10_000_000))
    validity_days = fields.Integer(required=True, strict=True, validate=validate.Range(1, 3650))
    active_from = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    active_until = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    is_active = fields.Boolean()
    is_offer = fields.Boolean(
        metadata={"description": "Given by scenarios only (welcome, birthday offers); not redeemable with points"}
    )
    translations = translations("name", "description")


class RewardUpdateSchema(RewardSchema):
    code = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    kind = fields.String(validate=validate.OneOf(REWARD_KINDS))
    cost_points = fields.Integer(strict=True, validate=validate.Range(0, 10_000_000))
    validity_days = fields.Integer(strict=True, validate=validate.Range(1, 3650))


class CatalogItemSchema(Schema):
    code = fields.String(attribute="reward.code")
    name = TranslatedString(attribute="reward.name", of="reward")
    description = TranslatedString(attribute="reward.description", of="reward")
    kind = fields.String(attribute="reward.kind")
    amount = fields.Decimal(as_string=True, attribute="reward.amount", allow_none=True)
    percent = fields.Integer(attribute="reward.percent", allow_none=True)
    cost_points = fields.Integer(attribute="reward.cost_points")
    min_tier_code = fields.String(attribute="reward.min_tier_code", allow_none=True)
    affordable = fields.Boolean(metadata={"description": "The member's balance covers the cost now"})


class CatalogQuerySchema(Schema):
    member_id = fields.Integer(
        validate=validate.Range(1, MAX_ID), metadata={"description": "Personalise for this member"}
    )


class RedemptionSchema(Schema):
    reward_code = fields.String(required=True, validate=REWARD_CODE)


class VoucherSchema(Schema):
    code = fields.String()
    member_id = fields.Integer()
    reward_code = fields.String()
    reward_name = TranslatedString(of="reward", text="name")
    kind = fields.String()
    amount = fields.Decimal(as_string=True, allow_none=True)
    percent = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "issued, redeemed, cancelled or expired"})
    points_cost = fields.Integer()
    source = fields.String(metadata={"description": "redemption, threshold or scenario"})
    issued_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    redeemed_at = fields.AwareDateTime(allow_none=True)
    redeemed_store_code = fields.String(allow_none=True)
    redeemed_receipt_no = fields.String(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class VoucherUseSchema(Schema):
    store_code = fields.String(required=True, validate=STORE_CODE)
    receipt_no = fields.String(required=True, validate=CODE)


class ThresholdSchema(Schema):
    points = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10_000_000))
    reward_code = fields.String(required=True, validate=REWARD_CODE)
    auto_issue = fields.Boolean(load_default=True)
    is_active = fields.Boolean(load_default=True)


class ThresholdListSchema(Schema):
    thresholds = fields.List(fields.Nested(ThresholdSchema), required=True, validate=validate.Length(max=100))
