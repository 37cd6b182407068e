"""A definition as the text people edit (YAML; JSON is YAML too), read back, the line a path names in
it, and the difference between two versions line by line."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import yaml

from loyalty.errors import InvalidOperation
from notifications.scenarios.definition import STEP_KINDS

_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")
#: The order a definition is written in (docs/scenarios.md); a step starts with its id and its kind.
_TOP = ("trigger", "entry", "params", "variants", "holdout_percent", "goal", "steps")
_STEP = ("id", *STEP_KINDS)


@dataclass(frozen=True)
class DiffLine:
    #: ``added``, ``removed``, ``same`` or ``hunk`` (the ``@@ … @@`` line starting a group of changes).
    kind: str
    text: str


def as_yaml(value: Any) -> str:
    """``value`` as block YAML, keys in the order they were written."""
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def definition_text(definition: dict[str, Any]) -> str:
    """A definition as YAML in the order people read it, whatever order it was stored in: the trigger
    first and the steps last, each step's id and kind first."""
    steps = definition.get("steps")
    if isinstance(steps, list):
        steps = [_ordered(step, _STEP) if isinstance(step, dict) else step for step in steps]
        definition = {**definition, "steps": steps}
    return as_yaml(_ordered(definition, _TOP))


def _ordered(mapping: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    """``mapping`` with the keys ``first`` first, in that order, then the others as they were."""
    rank = {name: index for index, name in enumerate(first)}
    return dict(sorted(mapping.items(), key=lambda item: rank.get(item[0], len(first))))


def read_yaml(text: str, *, field: str) -> Any:
    """The value a YAML or JSON text holds; a text that is neither is refused, naming its line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "not YAML or JSON"
        where = f" on line {mark.line + 1}" if mark is not None else ""
        raise InvalidOperation(f"not valid YAML{where}: {problem}", field=field) from None


def line_of(text: str, path: str) -> int | None:
    """The line (from 1) where the YAML ``text`` holds what ``path`` names (``definition.steps[2].then``,
    ``definition.variants[d10].params``: the text being the definition), or the nearest line above
    that exists; None when the text does not parse."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    segments = [name or index for name, index in _SEGMENT.findall(path)][1:]
    line = node.start_mark.line
    for segment in segments:
        found = _child(node, segment)
        if found is None:
            break
        line, node = found
    return line + 1


def _child(node: yaml.Node, segment: str) -> tuple[int, yaml.Node] | None:
    """The node ``segment`` names under ``node``, with the line it starts on (a mapping's key)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == segment:
                return key.start_mark.line, value
        return None
    if isinstance(node, yaml.SequenceNode):
        if segment.isdigit():
            index = int(segment)
            return (node.value[index].start_mark.line, node.value[index]) if index < len(node.value) else None
        for item in node.value:  # a variant named by its key
            if isinstance(item, yaml.MappingNode) and any(k.value == "key" and v.value == segment for k, v in item.value):
                return item.start_mark.line, item
    return None


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
