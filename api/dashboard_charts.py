"""Bar and line charts for the administrators' dashboard, laid out here in the SVG's own units and
drawn by templates/web/admin/_charts.html as inline SVG (no script, no library). The builders take
labels and texts already in the reader's language; the layout knows no language."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .charts import Chart, Tick

WIDTH = 360
FONT = 17  # the largest label size the stylesheet draws in a chart, for the room labels need


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: its label above the bar, the bar, its value at the bar's end."""

    label: str
    value: int
    text: str  # the value as read, e.g. "12.5 小时"
    y: float  # top of the bar
    width: float
    label_y: float  # baseline of the label
    text_x: float
    text_inside: bool  # the value is drawn inside a long bar, in white


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one row each: long labels (services, places) fit on a phone."""

    width: int
    height: int
    left: float
    bar_height: float
    bars: list[Bar]

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: int
    text: str


def label_width(label: str) -> float:
    """About how wide `label` is drawn at FONT: CJK characters are square, the rest about 0.6 of that."""
    return sum(FONT if ord(c) >= 0x2E80 else 0.6 * FONT for c in label)


def nice_step(top: float, ticks: int = 4) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals up to `top` (> 0)."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _number(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def bar_chart(items: Sequence[tuple[str, int]], text: Callable[[int], str]) -> BarChart:
    """Lay out `items` ((label, value ≥ 0), in the order given) as bars; `text(value)` is what each
    bar's value reads."""
    left, right, bar_height, row = 8.0, WIDTH - 8.0, 24.0, 60.0
    top = max((value for _, value in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = 30.0 + i * row
        width = (right - left) * max(value, 0) / top
        said = text(value)
        inside = width > (right - left) - label_width(said) - 12
        text_x = left + width - 6 if inside else left + width + 6
        bars.append(Bar(label, value, said, y, width, y - 8, text_x, inside))
    return BarChart(WIDTH, int(30 + len(items) * row), left, bar_height, bars)


def line_chart(items: Sequence[tuple[str, int]], text: Callable[[int], str], unit: int = 60) -> Chart:
    """Lay out `items` ((label of a period, value ≥ 0), oldest first, at least one) as a line; the
    vertical axis counts `unit`s (60: hours of minutes), `text(value)` is what each point reads."""
    height = 240
    top_value = max(max(value for _, value in items) / unit, 1)
    step = nice_step(top_value)
    y_max = step * math.ceil(top_value / step)
    y_labels = [_number(step * i) for i in range(round(y_max / step) + 1)]
    left = max(40.0, 12 + 0.6 * FONT * max(len(s) for s in y_labels))
    right, top, bottom = WIDTH - 16.0, 34.0, height - 58.0

    def x_of(i: int) -> float:
        return (left + right) / 2 if len(items) == 1 else left + (right - left) * i / (len(items) - 1)

    def y_of(amount: float) -> float:
        return bottom - (bottom - top) * amount / y_max

    y_ticks = [Tick(y_of(step * i), label, "end") for i, label in enumerate(y_labels)]
    points = [Point(x_of(i), y_of(value / unit), label, value, text(value)) for i, (label, value) in enumerate(items)]
    return Chart(WIDTH, height, left, right, top, bottom, points, _x_ticks(points), y_ticks)


def _x_ticks(points: Sequence[Point]) -> list[Tick]:
    """The first and last periods' labels, and the middle one's when it fits between them."""
    if len(points) == 1:
        return [Tick(points[0].x, points[0].label)]
    start, end = Tick(points[0].x, points[0].label, "start"), Tick(points[-1].x, points[-1].label, "end")
    middle_point = points[len(points) // 2]
    middle = Tick(middle_point.x, middle_point.label)
    half, gap = label_width(middle.label) / 2, FONT / 2
    fits = (start.pos + label_width(start.label) + gap <= middle.pos - half
            and middle.pos + half + gap <= end.pos - label_width(end.label))
    return [start, middle, end] if fits and len(points) > 2 else [start, end]
