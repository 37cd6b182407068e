"""Badges: the catalog, a member's badges, and their configuration."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import TranslatedString, translations
from app.schemas.purchases import CODE
from app.schemas.rewards import REWARD_CODE
from rewards.badges.models import METRIC_NAMES

MAX_TARGET = 10_000_000


class BadgeLevelSchema(Schema):
    rank = fields.Integer(dump_only=True, metadata={"description": "1 for the first level"})
    name = fields.String(allow_none=True, validate=validate.Length(1, 32), metadata={"example": "bronze"})
    target = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_TARGET))
    points = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(0, 1_000_000),
        metadata={"description": "Credited when the level is earned"},
    )  # fmt: skip


class BadgeSchema(Schema):
    """A badge as the back office configures it: a single ``target`` (and its ``points``), or ``levels``
    whose targets rise."""

    code = fields.String(required=True, validate=REWARD_CODE)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(max=2000))
    image_url = fields.Url(allow_none=True, validate=validate.Length(max=500))
    is_hidden = fields.Boolean(metadata={"description": "Shown to a member only once earned"})
    metric = fields.String(required=True, validate=validate.OneOf(METRIC_NAMES))
    qualifier = fields.String(
        allow_none=True, validate=CODE,
        metadata={"description": "The category, tier, streak or challenge code the metric is about"},
    )  # fmt: skip
    target = fields.Integer(load_only=True, strict=True, validate=validate.Range(1, MAX_TARGET))
    points = fields.Integer(load_only=True, strict=True, validate=validate.Range(0, 1_000_000))
    levels = fields.List(fields.Nested(BadgeLevelSchema), validate=validate.Length(1, 10))
    is_active = fields.Boolean()
    translations = translations("name", "description")


class BadgeUpdateSchema(BadgeSchema):
    code = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    metric = fields.String(validate=validate.OneOf(METRIC_NAMES))


class BadgeCatalogSchema(Schema):
    """A badge as members see it in the catalog."""

    code = fields.String()
    name = TranslatedString()
    description = TranslatedString()
    image_url = fields.String(allow_none=True)
    metric = fields.String()
    qualifier = fields.String(allow_none=True)
    levels = fields.List(fields.Nested(BadgeLevelSchema))


class EarnedLevelSchema(Schema):
    level = fields.Integer(attribute="rank")
    name = fields.String(allow_none=True)
    awarded_at = fields.AwareDateTime()


class BadgeStandingSchema(Schema):
    code = fields.String(attribute="badge.code")
    name = TranslatedString(attribute="badge.name", of="badge")
    description = TranslatedString(attribute="badge.description", of="badge")
    image_url = fields.String(attribute="badge.image_url", allow_none=True)


class EarnedBadgeSchema(BadgeStandingSchema):
    level = fields.Integer(attribute="highest.rank", metadata={"description": "The highest level earned"})
    level_name = fields.String(attribute="highest.name", allow_none=True)
    awarded_at = fields.AwareDateTime(attribute="highest.awarded_at")
    levels = fields.List(fields.Nested(EarnedLevelSchema), attribute="earned")


class BadgeProgressSchema(BadgeStandingSchema):
    level = fields.Integer(attribute="next_level.rank", metadata={"description": "The next level to earn"})
    level_name = fields.String(attribute="next_level.name", allow_none=True)
    current = fields.Integer(metadata={"description": "The member's figure on the badge's metric"})
    target = fields.Integer(attribute="next_level.target")
    percentage = fields.Integer(metadata={"description": "current / target, 0 to 100"})


class MemberBadgesSchema(Schema):
    earned = fields.List(fields.Nested(EarnedBadgeSchema), metadata={"description": "Latest first"})
    in_progress = fields.List(
        fields.Nested(BadgeProgressSchema), metadata={"description": "Badges with a level still to earn"}
    )
