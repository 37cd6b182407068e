"""Member requests and answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import LOCALE, Identifier, past_date, timezone_name
from app.schemas.engagement import EngagementStandingSchema
from app.schemas.purchases import CARD, CODE
from app.schemas.status import StatusSchema
from loyalty import identifiers

PHONE = Identifier(identifiers.PHONE)
PREFERRED_CHANNELS = ("email", "sms", "push", "in_app")


class ConsentsSchema(Schema):
    """Opt-in per channel, for marketing messages."""

    email = fields.Boolean()
    sms = fields.Boolean()
    push = fields.Boolean()
    postal = fields.Boolean()


class PostalAddressSchema(Schema):
    """A postal address: line 1, postcode, city and an ISO 3166-1 alpha-2 country; line 2 optional."""

    line1 = fields.String(required=True, validate=validate.Length(1, 100))
    line2 = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 100))
    postcode = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,14}[A-Za-z0-9]$|^[A-Za-z0-9]$",
                                                error="Letters, digits, spaces and hyphens, 1 to 16.")
    )  # fmt: skip
    city = fields.String(required=True, validate=validate.Length(1, 100))
    country = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="An ISO 3166-1 alpha-2 code, like FR.")
    )


class MemberFieldsSchema(Schema):
    first_name = fields.String(validate=validate.Length(1, 100))
    last_name = fields.String(validate=validate.Length(1, 100))
    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    birth_date = fields.Date(allow_none=True, validate=past_date)
    card_number = fields.String(validate=CARD)
    external_id = fields.String(allow_none=True, validate=CODE)
    locale = fields.String(validate=LOCALE)
    timezone = fields.String(validate=timezone_name)
    consents = fields.Nested(ConsentsSchema)
    postal_address = fields.Nested(PostalAddressSchema, allow_none=True)
    preferred_channel = fields.String(
        validate=validate.OneOf(PREFERRED_CHANNELS),
        metadata={"description": "The channel scenarios use first, when it is consented"},
    )
    password = fields.String(load_only=True, validate=validate.Length(8, 128))


class MemberCreateSchema(MemberFieldsSchema):
    first_name = fields.String(required=True, validate=validate.Length(1, 100))
    last_name = fields.String(required=True, validate=validate.Length(1, 100))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    referral_code = fields.String(
        validate=Identifier(identifiers.REFERRAL_CODE),
        metadata={"description": "The sponsor's referral code (case-insensitive)"},
    )


class MemberUpdateSchema(MemberFieldsSchema):
    """Fields to change; a member's own token may change only their profile, consents and password."""


class MemberSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    card_number = fields.String()
    external_id = fields.String(allow_none=True)
    locale = fields.String()
    timezone = fields.String()
    consents = fields.Nested(ConsentsSchema)
    postal_address = fields.Nested(PostalAddressSchema, allow_none=True)
    preferred_channel = fields.String()
    referral_code = fields.String(metadata={"description": "The member's own code, to give to friends"})
    sponsor_id = fields.Integer(allow_none=True)
    points_balance = fields.Integer(metadata={"description": "Spendable points"})
    pending_points = fields.Integer(metadata={"description": "Earned, spendable after the return window"})
    lifetime_points = fields.Integer()
    tier_code = fields.String()
    tier_since = fields.AwareDateTime()
    purchase_count = fields.Integer()
    last_purchase_at = fields.AwareDateTime(allow_none=True)
    enrolled_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CardLookupQuerySchema(Schema):
    card_number = fields.String(required=True, validate=CARD)


class MemberViewSchema(MemberSchema):
    """A member's profile and balance; admin and service clients also get the engagement score."""

    engagement = fields.Nested(
        EngagementStandingSchema, allow_none=True,
        metadata={
            "description": "Admin and service only: the engagement score and level (null: no score kept)",
            "x-answered-to": ["admin", "service"],
        },
    )  # fmt: skip


class MemberLookupSchema(MemberSchema):
    """A member found by card, with the status document the till shows."""

    status = fields.Nested(StatusSchema)
