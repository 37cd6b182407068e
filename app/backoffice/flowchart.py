"""The geometry of a scenario's flow drawn as inline SVG: one column of boxes in reading order (the
trigger on top, the end at the bottom), an arrow straight down to the box below, and arrows that jump
(a branch's other side, a ``next``, a step going back) routed in lanes on the right, each in its own
lane so that none hides another. ``scenarios/flow.html`` draws what this places."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.scenarios.flow import Flow, Node

BOX_WIDTH, BOX_HEIGHT = 360, 52
GAP = 34
MARGIN = 16
LANE = 16
#: Where an arrow leaves a box's right side, by label: the yes above the no.
_EXIT = {"yes": -9, "no": 9, "": 0}


@dataclass(frozen=True)
class Box:
    node: Node
    x: int
    y: int
    width: int = BOX_WIDTH
    height: int = BOX_HEIGHT


@dataclass(frozen=True)
class Arrow:
    #: The SVG path.
    path: str
    label: str
    label_x: int
    label_y: int


@dataclass(frozen=True)
class FlowChart:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]


def flow_chart(flow: Flow) -> FlowChart:
    """Place the flow's boxes and route its arrows."""
    rows = {node.id: index for index, node in enumerate(flow.nodes)}
    boxes = [Box(node, MARGIN, MARGIN + index * (BOX_HEIGHT + GAP)) for index, node in enumerate(flow.nodes)]
    centre = MARGIN + BOX_WIDTH // 2
    right = MARGIN + BOX_WIDTH
    arrows: list[Arrow] = []
    jumps = sorted(
        (edge for edge in flow.edges if rows[edge.target] != rows[edge.source] + 1),
        key=lambda edge: (abs(rows[edge.target] - rows[edge.source]), rows[edge.source]),
    )
    down = [edge for edge in flow.edges if rows[edge.target] == rows[edge.source] + 1]
    for edge in down:
        top = boxes[rows[edge.source]].y + BOX_HEIGHT
        bottom = boxes[rows[edge.target]].y
        arrows.append(Arrow(f"M{centre},{top} V{bottom - 2}", edge.label, centre + 8, top + GAP // 2 + 4))
    for lane, edge in enumerate(jumps, start=1):
        x = right + lane * LANE
        start = boxes[rows[edge.source]].y + BOX_HEIGHT // 2 + _EXIT[edge.label]
        end = boxes[rows[edge.target]].y + BOX_HEIGHT // 2 + (6 if rows[edge.target] > rows[edge.source] else -6)
        arrows.append(Arrow(f"M{right},{start} H{x} V{end} H{right + 2}", edge.label, right + 4, start - 3))
    width = right + (len(jumps) + 1) * LANE + MARGIN
    height = boxes[-1].y + BOX_HEIGHT + MARGIN
    return FlowChart(width, height, boxes, arrows)
