"""The status document."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.schemas.common import TranslatedList, TranslatedString

from app.schemas.engagement import EngagementStandingSchema


class TierStatusSchema(Schema):
    code = fields.String()
    name = TranslatedString()
    since = fields.AwareDateTime()
    benefits = TranslatedList(fields.String())
    multiplier = fields.Decimal(as_string=True)


class NextTierSchema(Schema):
    code = fields.String(attribute="tier.code")
    name = TranslatedString(attribute="tier.name", of="tier")
    threshold = fields.Integer(attribute="tier.threshold")
    points_needed = fields.Integer(metadata={"description": "Qualifying points still needed"})
    progress = fields.Float(metadata={"description": "0 to 1, from the current tier to the next"})


class RewardSummarySchema(Schema):
    code = fields.String()
    name = TranslatedString()
    kind = fields.String()
    amount = fields.Decimal(as_string=True, allow_none=True)
    percent = fields.Integer(allow_none=True)
    cost_points = fields.Integer()


class NextThresholdSchema(Schema):
    points = fields.Integer()
    points_needed = fields.Integer()
    reward = fields.Nested(RewardSummarySchema, allow_none=True)


class ExpiringSchema(Schema):
    points = fields.Integer()
    expires_at = fields.AwareDateTime(metadata={"description": "The first of the expiry dates"})


class StatusSchema(Schema):
    """Where a member stands: the same document for the app, the web and the till."""

    member_id = fields.Integer(attribute="member.id")
    points_balance = fields.Integer(attribute="member.points_balance", metadata={"description": "Spendable now"})
    pending_points = fields.Integer(
        attribute="member.pending_points", metadata={"description": "Earned, spendable after the return window"}
    )
    lifetime_points = fields.Integer(attribute="member.lifetime_points")
    qualifying_points = fields.Integer(metadata={"description": "Counted for tiers over the program's window"})
    tier = fields.Nested(TierStatusSchema)
    next_tier = fields.Nested(NextTierSchema, allow_none=True)
    next_threshold = fields.Nested(NextThresholdSchema, allow_none=True)
    expiring_soon = fields.Nested(ExpiringSchema, attribute="expiring", allow_none=True)
    rewards_available = fields.List(
        fields.Nested(RewardSummarySchema), metadata={"description": "Rewards the balance covers now"}
    )
    engagement = fields.Nested(
        EngagementStandingSchema, allow_none=True,
        metadata={"description": "The engagement score and level; null when the program keeps no score"},
    )  # fmt: skip

