"""Streaks: a member's runs, and their configuration."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.engagement import ACTION_KEY
from app.schemas.rewards import REWARD_CODE
from rewards.streaks.models import STREAK_PERIODS


class StreakSchema(Schema):
    code = fields.String(required=True, validate=REWARD_CODE)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    period = fields.String(
        required=True, validate=validate.OneOf(STREAK_PERIODS),
        metadata={"description": "day, or week (ISO, from Monday), in the member's time zone"},
    )  # fmt: skip
    counts_purchases = fields.Boolean(metadata={"description": "A purchase qualifies"})
    actions = fields.List(
        fields.String(validate=ACTION_KEY), validate=validate.Length(max=20),
        metadata={"description": "The engagement actions that qualify"},
    )  # fmt: skip
    is_active = fields.Boolean()


class StreakUpdateSchema(StreakSchema):
    code = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    period = fields.String(validate=validate.OneOf(STREAK_PERIODS))


class MemberStreakSchema(Schema):
    code = fields.String(attribute="streak.code")
    name = fields.String(attribute="streak.name")
    period = fields.String(attribute="streak.period")
    current = fields.Integer(
        metadata={"description": "Periods in a row up to this one or the last; 0 once a period passed without activity"}
    )
    best = fields.Integer()
    last_active_period = fields.Date(
        allow_none=True, metadata={"description": "The first day of the last period with an activity"}
    )
