"""A definition as the text people edit (YAML; JSON is YAML too), read back, and the difference
between two versions line by line."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml

from loyalty.errors import InvalidOperation


@dataclass(frozen=True)
class DiffLine:
    #: ``added``, ``removed``, ``same`` or ``hunk`` (the ``@@ … @@`` line starting a group of changes).
    kind: str
    text: str


def definition_text(definition: dict[str, Any]) -> str:
    """The definition as block YAML, keys in the order they were written."""
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def read_definition(text: str) -> dict[str, Any]:
    """The definition a YAML or JSON text holds; a text that is not one is refused, naming its line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "not YAML or JSON"
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise InvalidOperation(f"{problem}{where}", field="definition") from None
    if not isinstance(data, dict):
        raise InvalidOperation("an object (trigger, steps…)", field="definition")
    return data


def diff_definitions(old: dict[str, Any], new: dict[str, Any], *, context: int = 3) -> list[DiffLine]:
    """What changed from ``old`` to ``new``, as a unified diff of their texts."""
    lines = difflib.unified_diff(
        definition_text(old).splitlines(), definition_text(new).splitlines(), lineterm="", n=context
    )
    result = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            result.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            result.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            result.append(DiffLine("removed", line[1:]))
        else:
            result.append(DiffLine("same", line[1:]))
    return result
