"""Program settings and earning rules (admin)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import LOCALE, money, month_day, plausible_instant, rate, timezone_name, unique_items
from app.schemas.purchases import CODE, STORE_CODE
from loyalty.members.operations import PROFILE_FIELDS
from loyalty.program.models import CHANNELS, EARNING_RULE_KINDS

MAX_MULTIPLIER = 100


class ProgramSettingsSchema(Schema):
    name = fields.String(validate=validate.Length(1, 120))
    currency = fields.String(dump_only=True, metadata={"description": "Fixed when the program is created"})
    points_per_unit = rate(
        maximum=1000, metadata={"description": "Points per whole currency unit spent, before multipliers"}
    )
    minimum_amount = money(required=False)
    point_value = rate(
        maximum=1000, metadata={"description": "What one point is worth in the currency (the points liability in money)"}
    )
    claim_window_days = fields.Integer(strict=True, validate=validate.Range(0, 3650))
    default_timezone = fields.String(validate=timezone_name)
    default_locale = fields.String(validate=LOCALE)
    locales = fields.List(
        fields.String(validate=LOCALE), validate=[validate.Length(1, 20), unique_items],
        metadata={"description": "The languages of the program's texts; the first is the original one, "
                  "each other one is a translation every message template must have"},
    )
    points_expiry_months = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(1, 120),
        metadata={"description": "Points expire this many months after they were earned; null: never"},
    )
    expiry_notice_days = fields.Integer(strict=True, validate=validate.Range(0, 365))
    pending_days = fields.Integer(
        strict=True, validate=validate.Range(0, 365),
        metadata={"description": "Purchase points stay pending (not spendable) this many days"},
    )
    tier_window_months = fields.Integer(strict=True, validate=validate.Range(1, 60))
    tier_review_month_day = fields.String(
        allow_none=True, validate=month_day,
        metadata={"description": "MM-DD: tiers are reviewed on this date each year; null: on the tier's anniversary"},
    )
    referral_min_amount = money(required=False)
    referral_referee_points = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000))
    profile_fields = fields.List(fields.String(validate=validate.OneOf(PROFILE_FIELDS)), validate=validate.Length(max=10))
    max_total_by_channel = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CHANNELS)), values=money(positive=True),
        metadata={"description": "The largest purchase total per channel; a larger receipt is a 422"},
    )  # fmt: skip
    max_total_by_store = fields.Dict(
        keys=fields.String(validate=STORE_CODE), values=money(positive=True), validate=validate.Length(max=1000),
        metadata={"description": "The largest purchase total per store code, within the channel's"},
    )  # fmt: skip


class EarningRuleSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(EARNING_RULE_KINDS))
    name = fields.String(required=True, validate=validate.Length(1, 120))
    category = fields.String(allow_none=True, validate=CODE)
    channel = fields.String(allow_none=True, validate=validate.OneOf(CHANNELS))
    multiplier = rate(maximum=MAX_MULTIPLIER, required=True)
    starts_at = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    ends_at = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    is_active = fields.Boolean()


class EarningRuleUpdateSchema(EarningRuleSchema):
    kind = fields.String(validate=validate.OneOf(EARNING_RULE_KINDS))
    name = fields.String(validate=validate.Length(1, 120))
    multiplier = rate(maximum=MAX_MULTIPLIER)


class MissingTranslationSchema(Schema):
    kind = fields.String(metadata={"description": "template, tier, reward, badge, challenge, quiz or game"})
    key = fields.String(metadata={"description": "The template's key, or the thing's code"})
    locale = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields", metadata={"description": "The texts without a translation"})


class TranslationReportSchema(Schema):
    """The texts the program has in its original language and not in the others it declares."""

    locales = fields.List(fields.String(), metadata={"description": "The program's languages, the original first"})
    missing = fields.List(fields.Nested(MissingTranslationSchema))
