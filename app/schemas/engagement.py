"""Engagements, engagement actions and referrals."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import MAX_ID, plausible_instant
from loyalty.engagement.models import PERIODS

ACTION_KEY = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Lower-case letters, digits and _ only.")


class EngagementRequestSchema(Schema):
    member_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_ID))
    action = fields.String(required=True, validate=ACTION_KEY)
    ref = fields.String(
        required=True, validate=validate.Length(1, 128),
        metadata={"description": "The source's own id (the review id, the share id): the idempotency key"},
    )
    occurred_at = fields.AwareDateTime(required=True, validate=plausible_instant)


class EngagementSchema(Schema):
    id = fields.Integer()
    member_id = fields.Integer()
    action = fields.String(attribute="action_key")
    ref = fields.String()
    occurred_at = fields.AwareDateTime()
    points_awarded = fields.Integer()
    outcome = fields.String(metadata={"description": "awarded or limit_reached"})
    reason = fields.String(allow_none=True, metadata={"description": "Why no points were awarded"})


class EngagementActionSchema(Schema):
    key = fields.String(required=True, validate=ACTION_KEY)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    points = fields.Integer(required=True, strict=True, validate=validate.Range(0, 1_000_000))
    once_per_member = fields.Boolean()
    max_per_period = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 10_000))
    period = fields.String(allow_none=True, validate=validate.OneOf(PERIODS))
    cooldown_minutes = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 525_600))
    self_reportable = fields.Boolean()
    is_active = fields.Boolean()


class EngagementActionUpdateSchema(EngagementActionSchema):
    key = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    points = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000))


class ReferralStatsSchema(Schema):
    referral_code = fields.String()
    referees = fields.Integer()
    rewarded_referees = fields.Integer()
    referees_revenue = fields.Decimal(as_string=True)
