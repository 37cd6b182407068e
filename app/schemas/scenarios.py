"""Scenarios, their versions and KPIs, message templates, and the marketing pressure rules."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import LOCALE, Identifier, plausible_instant
from loyalty import identifiers
from notifications.scenarios.operations import STATUSES

#: A scenario's or a template's key, as a step's ``send`` names a template.
KEY = Identifier(identifiers.KEY)
#: ``/admin/scenarios/kpis`` is the summary of every scenario: no scenario may have that key.
SCENARIO_KEY = [KEY, validate.NoneOf(["kpis"], error="This key is reserved.")]


class ScenarioSchema(Schema):
    key = fields.String(required=True, validate=SCENARIO_KEY)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(max=2000))
    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={"description": "active (members enter), paused (journeys go on, nobody enters) or draft"},
    )
    is_marketing = fields.Boolean(
        metadata={"description": "Marketing messages obey consent, the cap, quiet hours and blackouts"}
    )
    version = fields.Integer(dump_only=True, metadata={"description": "Each new definition is a new version"})
    definition = fields.Dict(
        required=True,
        metadata={"description": "Trigger, entry rule, steps, goal, holdout, variants (docs/scenarios.md)"},
    )
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ScenarioUpdateSchema(Schema):
    """Changes; a definition that differs from the current one becomes a new version."""

    name = fields.String(validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(max=2000))
    is_marketing = fields.Boolean()
    definition = fields.Dict()


class ScenarioVersionSchema(Schema):
    version = fields.Integer()
    definition = fields.Dict()
    created_at = fields.AwareDateTime()


class TemplatePartsSchema(Schema):
    """The four Jinja parts of a message: email = subject + text + html, SMS = short, push = subject +
    short, in-app = subject + text."""

    subject = fields.String(required=True, validate=validate.Length(1, 1000))
    text = fields.String(required=True, validate=validate.Length(1, 50_000))
    html = fields.String(
        required=True, validate=validate.Length(max=200_000), metadata={"description": "Empty: a text-only email"}
    )
    short = fields.String(required=True, validate=validate.Length(1, 1000))


class TemplateSchema(TemplatePartsSchema):
    """A message template: its parts in the program's original language (the first of its
    ``locales``), and a translation for each other language the program declares."""

    key = fields.String(dump_only=True)
    translations = fields.Dict(
        keys=fields.String(validate=LOCALE),
        values=fields.Nested(TemplatePartsSchema),
        validate=validate.Length(max=20),
        metadata={"description": "The parts in each other language, by locale; each reads the original's placeholders"},
    )
    updated_at = fields.AwareDateTime(dump_only=True)


class NewTemplateSchema(TemplateSchema):
    """A template created with its key (the API names it in the path)."""

    key = fields.String(required=True, validate=KEY)


class KpiFiguresSchema(Schema):
    entered = fields.Integer(metadata={"description": "Journeys started, the holdout group apart"})
    sent = fields.Integer(metadata={"description": "Messages sent or delivered, in-app copies apart"})
    sent_by_channel = fields.Dict(keys=fields.String(), values=fields.Integer())
    delivered = fields.Integer()
    opened = fields.Integer()
    clicked = fields.Integer()
    converted = fields.Integer(metadata={"description": "Journeys converted by a purchase within the goal's window"})
    revenue = fields.Decimal(as_string=True, metadata={"description": "The converting purchases' total"})
    open_rate = fields.Float(allow_none=True, metadata={"description": "opened / sent; null when nothing was sent"})
    click_rate = fields.Float(allow_none=True, metadata={"description": "clicked / sent"})
    conversion_rate = fields.Float(allow_none=True, metadata={"description": "converted / entered"})


class VariantKpisSchema(KpiFiguresSchema):
    variant = fields.String(allow_none=True, metadata={"description": "null: journeys without a variant"})


class GroupConversionSchema(Schema):
    entered = fields.Integer()
    converted = fields.Integer()
    conversion_rate = fields.Float(allow_none=True)


class HoldoutComparisonSchema(Schema):
    treatment = fields.Nested(GroupConversionSchema)
    holdout = fields.Nested(GroupConversionSchema)
    lift = fields.Float(allow_none=True, metadata={"description": "Treatment's conversion rate minus the holdout's"})
    relative_lift = fields.Float(allow_none=True, metadata={"description": "lift / the holdout's conversion rate"})


class ScenarioKpisSchema(KpiFiguresSchema):
    scenario = fields.String()
    name = fields.String()
    status = fields.String()
    holdout = fields.Integer(metadata={"description": "Journeys of the holdout group (sent nothing, measured)"})
    variants = fields.List(fields.Nested(VariantKpisSchema))
    holdout_comparison = fields.Nested(HoldoutComparisonSchema)


class ScenarioKpiLineSchema(KpiFiguresSchema):
    scenario = fields.String()
    name = fields.String()
    status = fields.String()
    holdout = fields.Integer()
    holdout_conversion_rate = fields.Float(allow_none=True)
    lift = fields.Float(allow_none=True)


class PressureSettingsSchema(Schema):
    """Marketing pressure: the cap, quiet hours (the member's local time) and delivery attempts."""

    cap_messages = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, 100),
        metadata={"description": "At most this many marketing messages per member per cap_days"},
    )
    cap_days = fields.Integer(required=True, strict=True, validate=validate.Range(1, 365))
    quiet_start = fields.Time(format="%H:%M", required=True, metadata={"example": "21:00"})
    quiet_end = fields.Time(
        format="%H:%M", required=True, metadata={"example": "08:00", "description": "May be before the start"}
    )
    max_attempts = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, 20),
        metadata={"description": "Delivery attempts before a message becomes a dead letter"},
    )
    updated_at = fields.AwareDateTime(dump_only=True)


class BlackoutSchema(Schema):
    """A period during which marketing scenarios pause (their messages wait for its end)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    starts_at = fields.AwareDateTime(required=True, validate=plausible_instant)
    ends_at = fields.AwareDateTime(required=True, validate=plausible_instant)


class ComplaintSchema(Schema):
    """A member's complaint: no marketing reaches them while it is open."""

    id = fields.Integer(dump_only=True)
    member_id = fields.Integer(dump_only=True)
    subject = fields.String(required=True, validate=validate.Length(1, 200))
    note = fields.String(validate=validate.Length(max=2000))
    opened_at = fields.AwareDateTime(dump_only=True)
    closed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
