"""JSON Schema checks: a type's schema is itself valid, and an event's properties satisfy it.

``jsonschema`` implements the standard (draft 2020-12 by default, or the draft a schema's ``$schema``
names); errors name the failing property by its path, so the API answers 422 pointing at it.
"""

from __future__ import annotations

from typing import Any

from jsonschema import exceptions, validators

from loyalty.errors import InvalidOperation


def check_schema(schema: Any) -> None:
    """Refuse a schema that is not a valid JSON Schema of an object."""
    if not isinstance(schema, dict):
        raise InvalidOperation("a JSON Schema is an object", field="schema")
    validator = validators.validator_for(schema)
    try:
        validator.check_schema(schema)
    except exceptions.SchemaError as error:
        path = ".".join(str(part) for part in error.path)
        raise InvalidOperation(f"not a valid JSON Schema: {error.message}", field=_join("schema", path)) from None
    if schema.get("type") != "object":
        raise InvalidOperation("the schema of an event's properties has type object", field="schema.type")


def check_properties(schema: dict[str, Any], properties: dict[str, Any]) -> None:
    """Refuse ``properties`` that do not satisfy ``schema``, naming the first failing property."""
    validator = validators.validator_for(schema)(schema)
    error = exceptions.best_match(validator.iter_errors(properties))
    if error is None:
        return
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [name for name in error.validator_value if isinstance(error.instance, dict) and name not in error.instance]
        path += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in allowed)
        path += extra[:1]
    raise InvalidOperation(error.message, field=_join("properties", ".".join(path)))


def declared_properties(schema: dict[str, Any]) -> set[str] | None:
    """The top-level property names a schema declares, or None if it declares none (it admits any)."""
    declared = schema.get("properties")
    return set(declared) if isinstance(declared, dict) and declared else None


def _join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if path else prefix
