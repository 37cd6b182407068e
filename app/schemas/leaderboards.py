"""Leaderboards: definitions, a board with its ranks, and a member's public profile."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import MAX_ID, Identifier
from app.schemas.purchases import STORE_CODE
from loyalty import identifiers
from rewards.leaderboards.models import METRICS, PERIODS, SCOPES

BOARD_KEY = Identifier(identifiers.BOARD_KEY)


class LeaderboardSchema(Schema):
    key = fields.String(required=True, validate=BOARD_KEY)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    metric = fields.String(
        load_default="points",
        validate=validate.OneOf(METRICS),
        metadata={"description": "points: the qualifying points earned (purchases, engagement, quizzes)"},
    )
    periods = fields.List(
        fields.String(validate=validate.OneOf(PERIODS)),
        required=True,
        validate=validate.Length(1, len(PERIODS)),
        metadata={"description": "Some of week, month, all; the first is the default"},
    )
    scope = fields.String(
        required=True, validate=validate.OneOf(SCOPES), metadata={"description": "all members, or one board per store"}
    )
    is_active = fields.Boolean()


class LeaderboardUpdateSchema(LeaderboardSchema):
    key = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(1, 120))
    metric = fields.String(validate=validate.OneOf(METRICS))
    periods = fields.List(fields.String(validate=validate.OneOf(PERIODS)), validate=validate.Length(1, len(PERIODS)))
    scope = fields.String(validate=validate.OneOf(SCOPES))


class BoardQuerySchema(Schema):
    period = fields.String(
        validate=validate.OneOf(PERIODS), metadata={"description": "week, month or all; the board's first by default"}
    )
    store = fields.String(validate=STORE_CODE, metadata={"description": "Store boards only"})
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))
    member_id = fields.Integer(
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "Clients: whose own line to add (a member's token shows their own)"},
    )


class StandingSchema(Schema):
    rank = fields.Integer(metadata={"description": "Ties share a rank: 1, 2, 2, 4"})
    display_name = fields.String()
    points = fields.Integer()


class OwnStandingSchema(Schema):
    rank = fields.Integer(
        allow_none=True,
        metadata={"description": "Among the listed members (as if listed, when not); null without points"},
    )
    points = fields.Integer()
    listed = fields.Boolean(metadata={"description": "The member opted in and appears on the board"})


class BoardSchema(Schema):
    key = fields.String(attribute="leaderboard.key")
    name = fields.String(attribute="leaderboard.name")
    metric = fields.String(attribute="leaderboard.metric")
    period = fields.String()
    period_key = fields.String(metadata={"description": "all, 2026-11 or 2026-W47, in the program's time zone"})
    starts_at = fields.AwareDateTime(allow_none=True)
    ends_at = fields.AwareDateTime(allow_none=True)
    store = fields.String(allow_none=True)
    entries = fields.List(fields.Nested(StandingSchema))
    me = fields.Nested(OwnStandingSchema, allow_none=True)


class ProfileSchema(Schema):
    display_name = fields.String(
        required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "3 to 32 letters, digits, spaces, _ or -: no email address, no long number"},
    )
    opted_in = fields.Boolean(required=True, metadata={"description": "Appear on the leaderboards"})


class ProfileViewSchema(ProfileSchema):
    """A profile as answered: no name until the member chooses one."""

    display_name = fields.String(allow_none=True)
