"""Challenges: the list, a member's progress, and their configuration."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import TranslatedString, plausible_instant, translations
from app.schemas.engagement import ACTION_KEY
from app.schemas.purchases import CODE
from app.schemas.rewards import REWARD_CODE
from rewards.challenges.models import STEP_KINDS


class ChallengeStepSchema(Schema):
    position = fields.Integer(dump_only=True, metadata={"description": "1 for the first step"})
    kind = fields.String(required=True, validate=validate.OneOf(STEP_KINDS))
    action = fields.String(
        allow_none=True, validate=ACTION_KEY, metadata={"description": "The engagement action of an engagement step"}
    )
    category = fields.String(
        allow_none=True, validate=CODE,
        metadata={"description": "A purchase step counts only purchases with a line in this category"},
    )  # fmt: skip
    count = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 1000))


class ChallengeSchema(Schema):
    code = fields.String(required=True, validate=REWARD_CODE)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(max=2000))
    translations = translations("name", "description")
    starts_at = fields.AwareDateTime(required=True, validate=plausible_instant)
    ends_at = fields.AwareDateTime(
        allow_none=True, validate=plausible_instant, metadata={"description": "None: open-ended"}
    )
    is_ordered = fields.Boolean(metadata={"description": "The steps count only in their order"})
    requires_join = fields.Boolean(metadata={"description": "Members join first (opt-in)"})
    reward_points = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000))
    reward_badge_code = fields.String(allow_none=True, validate=REWARD_CODE)
    reward_code = fields.String(
        allow_none=True, validate=REWARD_CODE, metadata={"description": "An offer of the catalog, given as a voucher"}
    )
    is_active = fields.Boolean()
    steps = fields.List(fields.Nested(ChallengeStepSchema), required=True, validate=validate.Length(1, 20))


class ChallengeUpdateSchema(ChallengeSchema):
    code = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    starts_at = fields.AwareDateTime(validate=plausible_instant)
    steps = fields.List(fields.Nested(ChallengeStepSchema), validate=validate.Length(1, 20))


class StepProgressSchema(Schema):
    position = fields.Integer(attribute="step.position")
    kind = fields.String(attribute="step.kind")
    action = fields.String(attribute="step.action", allow_none=True)
    category = fields.String(attribute="step.category", allow_none=True)
    count = fields.Integer(attribute="step.count")
    done = fields.Integer(metadata={"description": "How many times the member did it, up to count"})


class MemberChallengeSchema(Schema):
    code = fields.String(attribute="challenge.code")
    name = TranslatedString(attribute="challenge.name", of="challenge")
    description = TranslatedString(attribute="challenge.description", of="challenge")
    starts_at = fields.AwareDateTime(attribute="challenge.starts_at")
    ends_at = fields.AwareDateTime(attribute="challenge.ends_at", allow_none=True)
    is_ordered = fields.Boolean(attribute="challenge.is_ordered")
    requires_join = fields.Boolean(attribute="challenge.requires_join")
    reward_points = fields.Integer(attribute="challenge.reward_points")
    status = fields.String(metadata={"description": "completed, in_progress, not_joined or not_started"})
    joined_at = fields.AwareDateTime(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    percentage = fields.Integer(metadata={"description": "Of all the steps' counts, 0 to 100"})
    steps = fields.List(fields.Nested(StepProgressSchema))
