"""Form input and its errors, for the pages' forms (the GOV.UK "error summary" pattern).

A form is checked by the API's own schema and the domain's own operations: one source of truth for
what is valid. Errors are kept field by field, in the order of the form, with the input as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from loyalty.errors import DomainError

#: marshmallow's message for a required field left out.
REQUIRED = "Missing data for required field."


@dataclass
class Form:
    """What was typed (``values``) and what is wrong with it (``errors``: field name → message)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message[:1].upper() + message[1:])

    def add_domain_error(self, error: DomainError, default_field: str) -> None:
        self.error(error.field or default_field, error.detail)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def load(
    schema: Schema,
    form: MultiDict[str, str],
    *,
    checkboxes: tuple[str, ...] = (),
    integers: tuple[str, ...] = (),
    names: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], Form]:
    """``form`` through ``schema``: the data, and the form with its errors (empty fields are left out;
    an unticked checkbox is False; ``integers`` are read as whole numbers, or left for the schema to
    refuse). A required field left empty says "Enter <its name in ``names``>", as a person would."""
    raw: dict[str, Any] = {name: value.strip() for name, value in form.items() if name != "csrf_token" and value.strip()}
    for name in integers:
        if name in raw and raw[name].lstrip("+-").isdigit():
            raw[name] = int(raw[name])
    for name in checkboxes:
        raw[name] = name in form
    result = Form(values={name: form.get(name, "") for name in form} | {name: name in form for name in checkboxes})
    try:
        data = schema.load(raw)
    except ValidationError as error:
        for name, message in _flat(error.messages):
            if message == REQUIRED and names and name in names:
                message = f"Enter {names[name]}"
            result.error(name, message)
        return {}, result
    return data, result


def _flat(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        return [pair for key, value in messages.items() for pair in _flat(value, f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(messages, list):
        return [(prefix or "form", " ".join(str(item) for item in messages))]
    return [(prefix or "form", str(messages))]
