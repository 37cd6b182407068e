"""The geometry of the pages' charts: the numbers a query returned, scaled into an SVG's box.

A chart is a query plus a picture: the figures come from a named aggregate function, these helpers
only place them, and ``macros/charts.html`` draws them as inline SVG (no library, nothing fetched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
#: Room for the axis labels.
LEFT, BOTTOM, TOP, RIGHT = 56, 28, 12, 12
PALETTE = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490")


@dataclass(frozen=True)
class Tick:
    value: float
    y: float


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    color: str = PALETTE[0]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]
    points: str
    color: str


@dataclass(frozen=True)
class LineChart:
    title: str
    labels: list[str]
    #: Where each label's x is, and which labels are printed under the axis.
    label_x: list[float]
    shown_labels: list[int]
    series: list[Series]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at least ``value`` (the axis' top)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _ticks(top: float) -> list[Tick]:
    """Four or five steps up to ``top``, whole numbers when they can be."""
    count = next((n for n in (4, 5) if (top / n).is_integer()), 4)
    plot = HEIGHT - TOP - BOTTOM
    return [Tick(value=top * i / count, y=HEIGHT - BOTTOM - plot * i / count) for i in range(count + 1)]


def bar_chart(title: str, items: Sequence[tuple[str, float]]) -> BarChart:
    """Vertical bars, one per ``(label, value)``."""
    top = nice_ceiling(max((value for _, value in items), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(items), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        height = plot_height * max(value, 0) / top
        bars.append(
            Bar(label=label, value=value, x=LEFT + index * slot + slot * 0.15, y=HEIGHT - BOTTOM - height,
                width=slot * 0.7, height=height)
        )
    return BarChart(title=title, bars=bars, ticks=_ticks(top))


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, width: int = WIDTH
) -> LineChart:
    """One line per ``(name, values)``, the values in the order of ``labels`` (days, weeks); a chart
    that spans the page is given a larger ``width``, so that its text keeps its size."""
    top = nice_ceiling(max((value for _, values in series for value in values), default=0))
    plot_width, plot_height = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(labels) - 1, 1)
    label_x = [LEFT + index * step for index in range(len(labels))]
    every = max(1, -(-len(labels) // (7 * width // WIDTH)))
    lines = []
    for index, (name, values) in enumerate(series):
        points = " ".join(
            f"{label_x[i]:.1f},{HEIGHT - BOTTOM - plot_height * max(value, 0) / top:.1f}" for i, value in enumerate(values)
        )
        lines.append(Series(name=name, values=list(values), points=points, color=PALETTE[index % len(PALETTE)]))
    return LineChart(
        title=title,
        labels=list(labels),
        label_x=label_x,
        shown_labels=list(range(0, len(labels), every)),
        series=lines,
        ticks=_ticks(top),
        width=width,
    )
