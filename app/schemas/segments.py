"""Segments: their definitions, counts and members."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import MAX_ID
from app.schemas.engagement import ACTION_KEY


class SegmentSchema(Schema):
    key = fields.String(required=True, validate=ACTION_KEY, metadata={"example": "lapsed_vips"})
    name = fields.String(required=True, validate=validate.Length(1, 120))
    definition = fields.Dict(
        required=True,
        metadata={
            "description": "all/any/not of conditions on tier, balance, purchases, events… (docs/integrations.md)",
            "example": {"all": [{"tier": ["vip"]}, {"last_purchase": {"not_within_days": 90}}]},
        },
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class SegmentUpdateSchema(SegmentSchema):
    key = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    definition = fields.Dict()


class SegmentCountSchema(Schema):
    count = fields.Integer()


class SegmentPageQuerySchema(Schema):
    after_id = fields.Integer(
        load_default=0, validate=validate.Range(0, MAX_ID), metadata={"description": "The last id of the page before"}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class SegmentMemberSchema(Schema):
    id = fields.Integer()
    external_id = fields.String(allow_none=True)
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    card_number = fields.String()
    tier_code = fields.String()
    points_balance = fields.Integer()
    enrolled_at = fields.AwareDateTime()


class SegmentPageSchema(Schema):
    members = fields.List(fields.Nested(SegmentMemberSchema))
    next_after_id = fields.Integer(allow_none=True, metadata={"description": "after_id of the next page; null at the end"})


class AwardCampaignSchema(Schema):
    ref = fields.String(
        required=True, validate=validate.Length(1, 64),
        metadata={"description": "The campaign's own id: awarding it again changes nothing"},
    )  # fmt: skip
    points = fields.Integer(required=True, strict=True, validate=validate.Range(1, 1_000_000))
    reason = fields.String(required=True, validate=validate.Length(3, 200))
    segment_key = fields.String(dump_only=True)
    members_awarded = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
