"""Field helpers shared by the schemas."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, utils, validate

from app.languages import languages
from loyalty import identifiers
from loyalty.identifiers import IdentifierRule

MAX_AMOUNT = 10_000_000
#: The largest BIGINT: no row has a larger id, and the databases refuse to compare with one.
MAX_ID = 2**63 - 1


class Identifier(validate.Regexp):
    """The validator of an identifier field: the whole string must follow ``rule``
    (:mod:`loyalty.identifiers`); its anchored pattern is also what the OpenAPI document shows."""

    def __init__(self, rule: IdentifierRule) -> None:
        super().__init__(rule.regex, error=rule.message)
        self.rule = rule

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not self.rule.matches(value):
            raise ValidationError(self.error)
        return value


LOCALE = Identifier(identifiers.LOCALE)


class PlainDecimal(fields.Decimal):
    """A decimal as people write amounts: a string of digits with an optional minus sign and decimal
    point ("12.50"), or a JSON number. An exponent ("1e3"), a leading "+" or spaces are refused; minus
    zero is zero (never answered as "-0.00")."""

    PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Decimal:
        if isinstance(value, str) and not self.PLAIN.fullmatch(value):
            raise self.make_error("invalid")
        number: Decimal = super()._deserialize(value, attr, data, **kwargs)
        return abs(number) if number.is_zero() else number


def money(*, required: bool = True, positive: bool = False, allow_none: bool | None = None) -> fields.Decimal:
    """An amount with at most two decimals, sent and returned as a string ("12.50") or a number."""
    validators: list[Callable[[Any], Any]] = [
        validate.Range(min=0, max=MAX_AMOUNT, min_inclusive=not positive),
        AtMostDecimals(2),
    ]
    return PlainDecimal(
        required=required, as_string=True, validate=validators, metadata={"example": "42.50"}, allow_none=allow_none
    )


def rate(*, maximum: int, required: bool = False, metadata: Mapping[str, Any] | None = None) -> fields.Decimal:
    """A rate or multiplier with at most four decimals: the precision the database keeps."""
    validators: list[Callable[[Any], Any]] = [validate.Range(min=0, max=maximum), AtMostDecimals(4)]
    return PlainDecimal(required=required, as_string=True, validate=validators, metadata=metadata)


class AtMostDecimals(validate.Validator):
    """No more than ``places`` digits after the decimal point (the OpenAPI pattern says so too)."""

    def __init__(self, places: int) -> None:
        self.places = places

    def __call__(self, value: Decimal) -> Decimal:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.places:
            raise ValidationError(f"At most {self.places} decimals.")
        return value


def timezone_name(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Not a known IANA time zone (e.g. Europe/Paris).") from None


def plausible_instant(value: datetime) -> None:
    """Refuse instants no program means (years like 1800 or 9999, which also overflow in UTC)."""
    if not 2000 <= value.year <= 2099:
        raise ValidationError("Must be between the years 2000 and 2099.")


def month_day(value: str) -> None:
    """``MM-DD``, a day that exists in some year (02-29 included)."""
    try:
        datetime.strptime(f"2000-{value}", "%Y-%m-%d")
    except ValueError:
        raise ValidationError("A day of the year as MM-DD, e.g. 01-31.") from None


def unique_items(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Each item once.")


def translations(*names: str, lists: tuple[str, ...] = ()) -> fields.Dict:
    """The ``translations`` of a translatable thing: ``{"en": {"name": "…"}}``, for the ``names``
    (texts) and ``lists`` (lists of texts) it has."""
    return fields.Dict(
        keys=fields.String(validate=LOCALE),
        values=fields.Nested(_texts_schema(names, lists)),
        validate=validate.Length(max=20),
        metadata={"description": "The texts in the program's other languages, by locale: {\"en\": {\"name\": \"…\"}}"},
    )


@functools.cache
def _texts_schema(names: tuple[str, ...], lists: tuple[str, ...]) -> type[Schema]:
    texts: dict[str, fields.Field] = {name: fields.String(validate=validate.Length(1, 2000)) for name in names}
    for name in lists:
        texts[name] = fields.List(fields.String(validate=validate.Length(1, 200)), validate=validate.Length(max=20))
    return Schema.from_dict(texts, name="Texts" + "".join(name.title() for name in (*names, *lists)))


class _Translated(fields.Field):
    """A text of the thing ``of`` (the serialised object itself by default) in the caller's language;
    ``text`` names it in the thing's translations when the answer names it otherwise."""

    def __init__(self, *args: Any, of: str | None = None, text: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.of = of
        self.text = text

    def serialize(self, attr: str, obj: Any, accessor: Callable[[Any, str, Any], Any] | None = None, **kwargs: Any) -> Any:
        value = super().serialize(attr, obj, accessor, **kwargs)
        thing = obj if self.of is None else utils.get_value(obj, self.of)
        found = utils.get_value(thing, "translations", default=None)
        name = self.text or (self.attribute or attr).split(".")[-1]
        return languages().text(value, found if isinstance(found, Mapping) else None, name)


class TranslatedString(_Translated, fields.String):
    """A name or description in the caller's language (``Content-Language`` says which)."""


class TranslatedList(_Translated, fields.List):
    """A list of texts (a tier's benefits) in the caller's language."""


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
