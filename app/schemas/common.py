"""Field helpers shared by the schemas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate

MAX_AMOUNT = Decimal("10000000")


def money(*, required: bool = True, positive: bool = False, **kwargs: object) -> fields.Decimal:
    """An amount with at most two decimals, sent and returned as a string ("12.50") or a number."""
    validators = [
        validate.Range(min=Decimal("0"), max=MAX_AMOUNT, min_inclusive=not positive),
        _at_most_two_decimals,
    ]
    return fields.Decimal(
        required=required, as_string=True, validate=validators, metadata={"example": "42.50"}, **kwargs
    )


def _at_most_two_decimals(value: Decimal) -> None:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationError("At most two decimals.")


def timezone_name(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Not a known IANA time zone (e.g. Europe/Paris).") from None


def past_date(value: date) -> None:
    if value > date.today() or value.year < 1900:
        raise ValidationError("Must be a real date in the past.")


class ProblemParamSchema(Schema):
    name = fields.String(metadata={"description": "The field, dotted for nested ones: lines.0.quantity"})
    reason = fields.String()
    location = fields.String(data_key="in", metadata={"description": "json, query or path"})


class ProblemSchema(Schema):
    """An ``application/problem+json`` error body."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    invalid_params = fields.List(fields.Nested(ProblemParamSchema))
