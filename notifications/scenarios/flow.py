"""A scenario as a flow a marketer reads: the trigger, each step in words, and the arrows between them
(the next step, a branch's yes and no, the end).

Built from a definition that :func:`~notifications.scenarios.definition.parse_definition` accepted;
the words say what the engine does (``notifications/journeys/steps.py``), ``$name`` parameters shown
as they are written, since each variant gives them its own value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifications.scenarios.definition import Definition, Step

#: The id of the node every journey ends at.
END = "end"
#: The id of the trigger's node, which no step may take (step ids have no ``:``).
TRIGGER = ":trigger"

_SCANS = {
    "near_threshold": "Members within {distance} points of a threshold",
    "inactive": "Members who have not bought for {days} days",
    "enrolled_without_purchase": "Members enrolled {days} days ago who never bought",
}
_DATES = {"birthday": "birthday", "enrolment_anniversary": "enrolment anniversary"}
_REACTIONS = {"opened": "Opened {of}", "clicked": "Clicked in {of}", "purchased": "Bought"}


@dataclass(frozen=True)
class Node:
    id: str
    #: ``trigger``, a step kind (``send``, ``wait``, ``branch``…) or ``end``.
    kind: str
    title: str
    detail: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    #: ``yes`` / ``no`` on a branch's arrows, empty otherwise.
    label: str = ""


@dataclass(frozen=True)
class Flow:
    """Nodes in reading order (the trigger first, the steps as written, the end last) and arrows."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def scenario_flow(definition: Definition) -> Flow:
    """The flow of a parsed definition."""
    steps = list(definition.steps.values())
    nodes = [_trigger_node(definition), *(_step_node(step) for step in steps), Node(END, "end", "End")]
    edges = [Edge(TRIGGER, definition.first_step, _entry_label(definition))]
    for step in steps:
        edges.extend(_edges_of(step))
    return Flow(tuple(nodes), tuple(edges))


def _trigger_node(definition: Definition) -> Node:
    trigger = definition.trigger
    if trigger.event is not None:
        title = f"When {trigger.event}"
        detail = ", ".join(f"{name} = {value}" for name, value in sorted(trigger.where.items()))
        return Node(TRIGGER, "trigger", title, detail and f"where {detail}")
    options = {name: str(value) for name, value in trigger.options.items()}
    if trigger.scan == "date":
        offset = trigger.options["offset_days"]
        when = _offset_words(offset) if isinstance(offset, int) else f"{offset} days from"
        return Node(TRIGGER, "trigger", f"Members {when} their {_DATES[trigger.options['date']]}")
    return Node(TRIGGER, "trigger", _SCANS[str(trigger.scan)].format(**options))


def _offset_words(offset: int) -> str:
    if offset == 0:
        return "on"
    unit = "day" if abs(offset) == 1 else "days"
    return f"{abs(offset)} {unit} {'before' if offset < 0 else 'after'}"


def _entry_label(definition: Definition) -> str:
    parts = []
    if definition.holdout_percent:
        parts.append(f"{definition.holdout_percent} % held out")
    if definition.variants:
        parts.append(" / ".join(variant.key for variant in definition.variants))
    return "; ".join(parts)


def _step_node(step: Step) -> Node:
    options = step.options
    if step.kind == "send":
        channels = options.get("channels", "preferred")
        on = "preferred channel" if channels == "preferred" else ", ".join(channels)
        return Node(step.id, "send", f"Send {options['send']}", f"on the {on}" if channels == "preferred" else f"by {on}")
    if step.kind == "wait":
        return Node(step.id, "wait", f"Wait {options['wait']}")
    if step.kind == "wait_until":
        return Node(step.id, "wait_until", f"Wait until {options['wait_until']}", "the member's local time")
    if step.kind == "branch":
        title = _REACTIONS[options["branch"]].format(of=options.get("of", "")) + "?"
        within = options.get("within")
        return Node(step.id, "branch", title, f"within {within}" if within is not None else "")
    if step.kind == "grant":
        grant: dict[str, Any] = options["grant"]
        if "offer" in grant:
            return Node(step.id, "grant", f"Give offer {grant['offer']}")
        return Node(
            step.id,
            "grant",
            f"Promise {grant['bonus_points']} bonus points",
            f"on a purchase within {grant['within_days']} days",
        )
    return Node(step.id, "exit", "Exit")


def _edges_of(step: Step) -> list[Edge]:
    if step.kind == "exit":
        return [Edge(step.id, END)]
    if step.kind == "branch":
        return [
            Edge(step.id, step.options.get("then") or END, "yes"),
            Edge(step.id, step.options.get("else") or END, "no"),
        ]
    return [Edge(step.id, step.next or END)]
