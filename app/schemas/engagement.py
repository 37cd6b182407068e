"""Engagements, engagement actions and referrals."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.common import MAX_ID, Identifier, plausible_instant
from loyalty import identifiers
from loyalty.customevents.conditions import OPERATORS
from loyalty.engagement.models import PERIODS, SCORE_INTERACTIONS

ACTION_KEY = Identifier(identifiers.KEY)


class EngagementRequestSchema(Schema):
    member_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_ID))
    action = fields.String(required=True, validate=ACTION_KEY)
    ref = fields.String(
        required=True, validate=Identifier(identifiers.REF),
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


class EventConditionSchema(Schema):
    property = fields.String(required=True, validate=validate.Length(1, 64))
    op = fields.String(required=True, validate=validate.OneOf(OPERATORS))
    value = fields.Raw(required=True, allow_none=True)


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
    event_type = fields.String(
        allow_none=True, validate=ACTION_KEY,
        metadata={"description": "The custom event type that awards the action (it is then not reported directly)"},
    )  # fmt: skip
    conditions = fields.List(
        fields.Nested(EventConditionSchema), allow_none=True, validate=validate.Length(max=20),
        metadata={"description": "Conditions on the custom event's properties, all of which must hold"},
    )  # fmt: skip


class EngagementActionUpdateSchema(EngagementActionSchema):
    key = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    points = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000))


class ReferralStatsSchema(Schema):
    referral_code = fields.String()
    referees = fields.Integer()
    rewarded_referees = fields.Integer()
    referees_revenue = fields.Decimal(as_string=True)


class EngagementStandingSchema(Schema):
    score = fields.Float(metadata={"description": "The decayed score now, 2 decimals"})
    level = fields.String(metadata={"description": "engaged, at_risk or dormant"})


class EngagementScoreSettingsSchema(Schema):
    """How the engagement score is computed: every field, each time."""

    half_life_days = fields.Float(
        required=True, validate=validate.Range(0.01, 3650),
        metadata={"description": "After this many days without interaction, the score is halved"},
    )  # fmt: skip
    weights = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SCORE_INTERACTIONS)),
        values=fields.Float(validate=validate.Range(0, 10_000)),
        required=True,
        metadata={"description": "What each interaction adds: purchase, engagement, message_opened, …"},
    )
    engaged_from = fields.Float(required=True, validate=validate.Range(0, 1_000_000, min_inclusive=False))
    at_risk_from = fields.Float(required=True, validate=validate.Range(0, 1_000_000, min_inclusive=False))

    @validates_schema
    def _boundaries_ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["engaged_from"] <= data["at_risk_from"]:
            raise ValidationError("Must be above at_risk_from.", field_name="engaged_from")
