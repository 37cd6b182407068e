"""Forms drawn from the API's own marshmallow schemas, and their input read back into the data that
schema loads: one source of truth for what a field is and what is valid.

Each field of a schema becomes an input by its type: text, a whole number, a decimal, a checkbox, a
choice (``OneOf``), ticks for a list of choices, a date and time (UTC), a time of day, one line per
item for a list of texts, and a YAML text for what is nested (a badge's levels, a quiz's questions, a
game's prizes, the tier ladder). What a person typed is turned into what the API would have received
as JSON, then loaded by the schema as the API loads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from loyalty.errors import DomainError, InvalidOperation
from notifications.scenarios.editing import as_yaml, read_yaml

#: Words a label writes in capitals.
_ACRONYMS = {"html": "HTML", "url": "URL"}
_WHOLE_NUMBER = re.compile(r"^[+-]?\d{1,19}\Z")
#: marshmallow's message for a required field left out, said as a person would: "Enter the name".
_REQUIRED = "Missing data for required field."


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    #: ``text``, ``textarea``, ``integer``, ``decimal``, ``checkbox``, ``select``, ``checkboxes``,
    #: ``datetime``, ``time``, ``lines`` or ``yaml``.
    kind: str
    required: bool = False
    #: The choices of a ``select`` or ``checkboxes``.
    choices: tuple[str, ...] = ()
    hint: str = ""

    @property
    def options(self) -> list[tuple[str, str]]:
        """A select's (value, text) pairs; an optional one starts with a blank."""
        blank = [] if self.required else [("", "—")]
        return blank + [(choice, choice.replace("_", " ")) for choice in self.choices]


@dataclass
class Submission:
    """The data a form's input loaded into, or the errors that stopped it (field name → message), and
    the input as typed, to show again."""

    data: dict[str, Any]
    values: dict[str, Any]
    errors: dict[str, str]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def refuse(self, error: DomainError, inputs: list[Input]) -> None:
        """Place an operation's error beside the field it names (``tiers.0.threshold``: the ladder)."""
        _place(self.errors, error.field or "", error.detail, {field.name: field.label for field in inputs})


def inputs_of(schema: Schema) -> list[Input]:
    """The inputs of a schema's loadable fields, in the schema's order."""
    return [_input(name, field) for name, field in schema.fields.items() if not field.dump_only]


def _input(name: str, field: fields.Field) -> Input:
    label = " ".join(_ACRONYMS.get(word, word) for word in name.split("_"))
    label = label[:1].upper() + label[1:]
    hint = str(field.metadata.get("description", ""))
    required = bool(field.required)
    choices = _choices(field)
    if isinstance(field, fields.Boolean):
        return Input(name, label, "checkbox", hint=hint)
    if isinstance(field, fields.List) and isinstance(field.inner, fields.String):
        inner = _choices(field.inner)
        if inner:
            return Input(name, label, "checkboxes", required, inner, hint)
        return Input(name, label, "lines", required, hint=hint or "One per line.")
    if isinstance(field, fields.List | fields.Nested | fields.Dict):
        return Input(name, label, "yaml", required, hint=hint or "YAML or JSON.")
    if isinstance(field, fields.AwareDateTime | fields.DateTime):
        return Input(name, f"{label} (UTC)", "datetime", required, hint=hint)
    if isinstance(field, fields.Time):
        return Input(name, label, "time", required, hint=hint)
    if isinstance(field, fields.Integer):
        return Input(name, label, "integer", required, hint=hint)
    if isinstance(field, fields.Decimal | fields.Float):
        return Input(name, label, "decimal", required, hint=hint)
    if choices:
        return Input(name, label, "select", required, choices, hint)
    if name in ("description", "note") or _longest(field) > 1000:
        return Input(name, label, "textarea", required, hint=hint)
    return Input(name, label, "text", required, hint=hint)


def _may_be_empty(field: fields.Field) -> bool:
    """A text whose only rule is a maximum length: empty is a value, not a missing one."""
    return all(isinstance(v, validate.Length) and not v.min for v in field.validators)


def _choices(field: fields.Field) -> tuple[str, ...]:
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            return tuple(str(choice) for choice in validator.choices)
    return ()


def _longest(field: fields.Field) -> int:
    lengths = [v.max for v in field.validators if isinstance(v, validate.Length) and v.max is not None]
    return max(lengths, default=0)


def values_of(schema: Schema, document: Mapping[str, Any]) -> dict[str, Any]:
    """A dumped document (``schema.dump`` of the object) as the inputs show it."""
    values: dict[str, Any] = {}
    for field in inputs_of(schema):
        if field.name not in document:
            continue
        value = document[field.name]
        if value is None:
            values[field.name] = False if field.kind == "checkbox" else ""
        elif field.kind == "yaml":
            values[field.name] = as_yaml(value)
        elif field.kind == "lines":
            values[field.name] = "\n".join(str(item) for item in value)
        elif field.kind == "datetime":
            values[field.name] = datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        else:
            values[field.name] = value
    return values


def submit(schema: Schema, form: MultiDict[str, str], *, partial: bool = False) -> Submission:
    """Read ``form`` as the inputs of ``schema`` and load it: an empty field is left out (a change
    leaves it as it is), or cleared when the field allows none and ``partial`` (an edit) is set."""
    inputs = inputs_of(schema)
    raw: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in inputs:
        allows_none = bool(schema.fields[field.name].allow_none)
        if field.kind == "checkbox":
            raw[field.name] = values[field.name] = field.name in form
            continue
        if field.kind == "checkboxes":
            chosen = form.getlist(field.name)
            values[field.name] = chosen
            if chosen or field.required or partial:
                raw[field.name] = chosen
            continue
        typed = form.get(field.name, "")
        values[field.name] = typed
        text = typed.strip()
        if not text:
            if partial and allows_none:
                raw[field.name] = None
            elif field.kind in ("text", "textarea") and _may_be_empty(schema.fields[field.name]):
                raw[field.name] = ""  # a description cleared, a text-only email's empty HTML
            continue
        try:
            raw[field.name] = _read(field, text)
        except ValueError as error:
            errors[field.name] = str(error)
    if errors:
        return Submission({}, values, errors)
    try:
        data = schema.load(raw, partial=partial)
    except ValidationError as error:
        labels = {field.name: field.label for field in inputs}
        for path, message in _flat(error.messages):
            _place(errors, path, message, labels)
        return Submission({}, values, errors)
    return Submission(data, values, errors)


def apply(submission: Submission, schema: Schema, operation: Callable[[dict[str, Any]], object]) -> bool:
    """Run ``operation`` on the submission's data if it is valid; an operation's refusal goes beside
    the field it names. Whether the change was made."""
    if not submission.is_valid:
        return False
    try:
        operation(submission.data)
    except DomainError as error:
        submission.refuse(error, inputs_of(schema))
        return False
    return True


def _read(field: Input, text: str) -> Any:
    """A field's text as the JSON value the API would have received."""
    if field.kind == "integer":
        return int(text) if _WHOLE_NUMBER.match(text) else text
    if field.kind == "datetime":
        return f"{text}:00+00:00" if len(text) == 16 else text
    if field.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if field.kind == "yaml":
        try:
            return read_yaml(text, field=field.name)
        except InvalidOperation as error:
            raise ValueError(error.detail[:1].upper() + error.detail[1:]) from None
    return text


def _flat(messages: Any, path: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested messages as (``levels.0.target``, message) pairs."""
    if isinstance(messages, dict):
        return [pair for key, value in messages.items() for pair in _flat(value, f"{path}.{key}" if path else str(key))]
    if isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        return [(path, " ".join(messages))]
    if isinstance(messages, list):
        return [pair for index, item in enumerate(messages) for pair in _flat(item, f"{path}.{index}")]
    return [(path, str(messages))]


def _place(errors: dict[str, str], path: str, message: str, labels: Mapping[str, str]) -> None:
    """The message beside the input the path starts with (the rest of the path said in the message:
    ``levels[0].target: Must be…``), or for the whole form when no input has that name."""
    head, _, rest = path.partition(".")
    if message == _REQUIRED and head in labels and not rest:
        message = f"Enter the {labels[head].removesuffix(' (UTC)').lower()}"
    message = message[:1].upper() + message[1:]
    if head not in labels:
        errors.setdefault("form", f"{path}: {message}" if path and path != "_schema" else message)
        return
    if rest:
        where = re.sub(r"(?:^|\.)(\d+)", r"[\1]", rest)
        message = f"{head}{where if where.startswith('[') else '.' + where}: {message}"
    errors.setdefault(head, message)
