"""What the OpenAPI document says beyond the schemas, decided once for every operation.

- Decimals are strings (``"12.50"``) with ``format: decimal`` and a pattern (docs/api.md), never the
  binary ``number`` a client would round.
- Every operation lists the errors it may answer, as ``application/problem+json`` with the problem
  schema: 400 and 415 for a body, 401 and 403 behind a token, 404 with a path parameter, 409 for a
  write, 422 for input, 429 always, and ``default`` for the rest.
- An ``operationId`` from the view's name (``record_purchase``), which a generated client uses as the
  function name.
- Every property of a successful answer is ``required`` (:func:`require_answered`): the API always
  answers it, ``null`` where it is ``nullable``, except a property answered to some roles only,
  marked ``x-answered-to``. A schema that requests share, where fewer are required, is copied for
  them as ``<Name>Input``.
"""

from __future__ import annotations

import copy
import http
from collections.abc import Iterator
from typing import Any

from apispec import BasePlugin
from marshmallow import fields, validate
from werkzeug.routing import Rule

from app.errors import PROBLEM_MIMETYPE
from app.schemas.common import AtMostDecimals, ProblemSchema

#: The components/responses that an error status points to (flask-smorest names them by status).
ERROR_RESPONSE = {status.value: status.name for status in http.HTTPStatus if status >= 400}
WRITE_METHODS = ("post", "put", "patch", "delete")
METHODS = ("get", "put", "post", "patch", "delete")
SCHEMA_REF = "#/components/schemas/"


class ContractPlugin(BasePlugin):
    """An apispec plugin completing each operation with its errors and its operationId."""

    def __init__(self) -> None:
        self.operation_ids: set[str] = set()

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        rule: Rule | None = kwargs.get("rule")
        if rule is None or not operations:
            return
        view_name = rule.endpoint.rsplit(".", 1)[-1]
        for method, operation in operations.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            operation_id = operation.setdefault("operationId", view_name)
            if operation_id in self.operation_ids:
                raise ValueError(f"operationId {operation_id!r} is used twice: name the views apart")
            self.operation_ids.add(operation_id)
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation, has_path_parameters=bool(rule.arguments)):
                responses[str(status)] = ERROR_RESPONSE[status]
            responses["default"] = "DEFAULT_ERROR"


def problem_response(status: http.HTTPStatus | None) -> dict[str, Any]:
    """The response object of an error status (``None``: any other error)."""
    response: dict[str, Any] = {
        "description": status.phrase if status else "Any other error",
        "content": {PROBLEM_MIMETYPE: {"schema": ProblemSchema}},
    }
    if status == http.HTTPStatus.UNAUTHORIZED:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}}
    if status == http.HTTPStatus.TOO_MANY_REQUESTS:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again"}
        }
    return response


def error_statuses(method: str, operation: dict[str, Any], *, has_path_parameters: bool) -> list[int]:
    """The error statuses an operation may answer, from its shape."""
    statuses = [429]
    has_body = "requestBody" in operation
    if has_body:
        statuses += [400, 413, 415]
    if operation.get("security") != []:
        statuses += [401, 403]
    if has_path_parameters:
        statuses.append(404)
    if method in WRITE_METHODS:
        statuses.append(409)
    if has_body or operation.get("parameters") or method in WRITE_METHODS:
        statuses.append(422)
    return sorted(statuses)


def ecma_pattern(_converter: Any, field: fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    """A pattern in the regular expression dialect of OpenAPI (ECMA 262): Python's ``\\Z``, the end of
    the string, is ``$`` there."""
    pattern = ret.get("pattern")
    if isinstance(pattern, str) and pattern.endswith("\\Z"):
        ret["pattern"] = pattern.removesuffix("\\Z") + "$"
    return {}


def decimal_as_string(_converter: Any, field: fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    """A marshmallow Decimal field as a string with format ``decimal`` and a pattern.

    The range, which a pattern cannot say, goes in the description."""
    if not isinstance(field, fields.Decimal):
        return {}
    ret["type"] = "string"
    ret["format"] = "decimal"
    bounds = [validator for validator in field.validators if isinstance(validator, validate.Range)]
    places = next((validator.places for validator in field.validators if isinstance(validator, AtMostDecimals)), None)
    non_negative = any(bound.min is not None and bound.min >= 0 for bound in bounds)
    sign = "" if non_negative else "-?"
    fraction = rf"(\.[0-9]{{1,{places}}})?" if places else r"(\.[0-9]+)?"
    ret["pattern"] = f"^{sign}[0-9]+{fraction}$"
    notes = []
    for bound in bounds:
        low = "" if bound.min is None else f"from {bound.min}{'' if bound.min_inclusive else ' (excluded)'}"
        high = "" if bound.max is None else f"to {bound.max}{'' if bound.max_inclusive else ' (excluded)'}"
        notes.append(" ".join(part for part in (low, high) if part))
        ret.pop("minimum", None)
        ret.pop("maximum", None)
        ret.pop("exclusiveMinimum", None)
        ret.pop("exclusiveMaximum", None)
    if places:
        notes.append(f"at most {places} decimals")
    if notes:
        description = ret.get("description", "")
        ret["description"] = (description + " " if description else "") + "A decimal string, " + ", ".join(notes) + "."
    return {}



def require_answered(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` (a document as ``APISpec.to_dict`` makes it) with every property of the schemas of
    successful answers required, except write-only ones. A schema also used by requests with another
    ``required`` list is copied for them (``<Name>Input``), and the requests point to the copy."""
    spec = copy.deepcopy(spec)  # to_dict() hands out the APISpec's own dicts
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    operations = [operation for item in spec.get("paths", {}).values() for method, operation in item.items() if method in METHODS]
    asked = _reachable([[operation.get("requestBody"), operation.get("parameters")] for operation in operations], schemas)
    answered = _reachable(
        [response for operation in operations for status, response in operation.get("responses", {}).items() if status.startswith("2")],
        schemas,
    )  # fmt: skip
    answer_required = {name: _all_answered(schemas[name]) for name in answered}
    shared = asked & answered
    inputs = {name: f"{name}Input" for name in shared if answer_required[name] != schemas[name].get("required", [])}
    # A shared schema holding one that requests have their own copy of needs its own copy too.
    while more := {name for name in shared - inputs.keys() if _reachable([schemas[name]], schemas) & inputs.keys()}:
        inputs.update((name, f"{name}Input") for name in more)
    for name, input_name in inputs.items():
        schemas[input_name] = copy.deepcopy(schemas[name])
    for name in (asked - answered) | set(inputs.values()):
        _point_to(schemas[name], inputs)
    for operation in operations:
        _point_to(operation.get("requestBody"), inputs)
        _point_to(operation.get("parameters"), inputs)
    for name, required in answer_required.items():
        if required:
            schemas[name]["required"] = required
    return spec


def _all_answered(schema: dict[str, Any]) -> list[str]:
    """Every property, but write-only ones and those answered to some roles only (``x-answered-to``)."""
    return [
        name
        for name, prop in schema.get("properties", {}).items()
        if not prop.get("writeOnly") and "x-answered-to" not in prop
    ]


def _refs(node: Any) -> Iterator[dict[str, Any]]:
    """The ``$ref`` objects to component schemas within ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith(SCHEMA_REF):
            yield node
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _reachable(roots: list[Any], schemas: dict[str, Any]) -> set[str]:
    """The names of the component schemas ``roots`` refer to, directly or through other schemas."""
    found: set[str] = set()
    waiting = [ref["$ref"].removeprefix(SCHEMA_REF) for ref in _refs(roots)]
    while waiting:
        name = waiting.pop()
        if name not in found and name in schemas:
            found.add(name)
            waiting.extend(ref["$ref"].removeprefix(SCHEMA_REF) for ref in _refs(schemas[name]))
    return found


def _point_to(node: Any, renamed: dict[str, str]) -> None:
    for ref in _refs(node):
        name = ref["$ref"].removeprefix(SCHEMA_REF)
        if name in renamed:
            ref["$ref"] = SCHEMA_REF + renamed[name]
