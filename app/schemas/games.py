"""Instant-win games: the configuration, the member's games and plays, the audit of a game's plays."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import TranslatedString, money, plausible_instant, translations
from app.schemas.engagement import ACTION_KEY
from app.schemas.ledger import LedgerQuerySchema
from app.schemas.rewards import REWARD_CODE
from rewards.games.models import EARN_EVENTS, GAME_KINDS, PRIZE_KINDS

WEIGHT = validate.Range(0, 1_000_000)


class PrizeSchema(Schema):
    code = fields.String(required=True, validate=REWARD_CODE)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    kind = fields.String(required=True, validate=validate.OneOf(PRIZE_KINDS))
    weight = fields.Integer(
        required=True, strict=True, validate=WEIGHT, metadata={"description": "Odds: weight / sum of all weights"}
    )
    points = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 1_000_000))
    reward_code = fields.String(
        allow_none=True, validate=REWARD_CODE, metadata={"description": "An offer reward (reward prizes)"}
    )
    stock = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(0, 10_000_000),
        metadata={"description": "null: unlimited"},
    )


class GameSchema(Schema):
    """A game as the back office sees and writes it."""

    code = fields.String(required=True, validate=REWARD_CODE)
    kind = fields.String(required=True, validate=validate.OneOf(GAME_KINDS))
    name = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(max=2000))
    translations = translations("name", "description")
    starts_at = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    ends_at = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    is_active = fields.Boolean()
    no_prize_weight = fields.Integer(required=True, strict=True, validate=WEIGHT)
    earn_on = fields.String(required=True, validate=validate.OneOf(EARN_EVENTS))
    earn_min_total = money(required=False, allow_none=True)
    earn_action_key = fields.String(allow_none=True, validate=ACTION_KEY)
    prizes = fields.List(fields.Nested(PrizeSchema), required=True, validate=validate.Length(max=20))


class GameUpdateSchema(GameSchema):
    code = fields.String(dump_only=True)
    kind = fields.String(validate=validate.OneOf(GAME_KINDS))
    name = fields.String(validate=validate.Length(1, 120))
    no_prize_weight = fields.Integer(strict=True, validate=WEIGHT)
    earn_on = fields.String(validate=validate.OneOf(EARN_EVENTS))
    prizes = fields.List(
        fields.Nested(PrizeSchema),
        validate=validate.Length(max=20),
        metadata={"description": "The whole list, matched by code; a prize already won cannot be left out"},
    )


class PublicPrizeSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    points = fields.Integer(allow_none=True)
    in_stock = fields.Function(lambda prize: prize.stock != 0, metadata={"type": "boolean"})


class PlaySchema(Schema):
    id = fields.Integer()
    played_at = fields.AwareDateTime()
    outcome = fields.String(metadata={"description": "prize, no_prize or out_of_stock (a prize drawn, none left)"})
    prize_code = fields.String(allow_none=True)
    points_awarded = fields.Integer()
    voucher_code = fields.Function(
        lambda play: play.voucher.code if play.voucher else None,
        allow_none=True,
        metadata={"type": "string", "description": "The voucher won (reward prizes)"},
    )


class MemberGameSchema(Schema):
    code = fields.String(attribute="game.code")
    kind = fields.String(attribute="game.kind")
    name = TranslatedString(attribute="game.name", of="game")
    description = TranslatedString(attribute="game.description", of="game")
    starts_at = fields.AwareDateTime(attribute="game.starts_at", allow_none=True)
    ends_at = fields.AwareDateTime(attribute="game.ends_at", allow_none=True)
    is_open = fields.Boolean()
    prizes = fields.List(fields.Nested(PublicPrizeSchema), attribute="game.prizes")
    plays_available = fields.Integer()
    plays = fields.List(fields.Nested(PlaySchema), metadata={"description": "The member's latest plays, newest first"})


class PlayResultSchema(Schema):
    game_code = fields.String()
    play = fields.Nested(PlaySchema)
    plays_left = fields.Integer(metadata={"description": "The member's plays of this game still to spend"})


class AuditPlaySchema(PlaySchema):
    member_id = fields.Integer()
    credit_id = fields.Integer()
    draw_value = fields.Integer(metadata={"description": "The random value drawn, in [0, draw_total)"})
    draw_total = fields.Integer(metadata={"description": "The sum of the weights at the time of the play"})
    stock_after = fields.Integer(allow_none=True, metadata={"description": "The prize's stock left after this play"})


class PlayPageSchema(Schema):
    items = fields.List(fields.Nested(AuditPlaySchema))
    next_before = fields.Integer(allow_none=True, metadata={"description": "Cursor of the next page; null on the last"})


class PlayPageQuerySchema(LedgerQuerySchema):
    """The same cursor paging as the ledger's: ``limit``, ``before``."""
