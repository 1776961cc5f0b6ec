"""The growth chart: checkpoint size against signing time, laid out here, drawn by
templates/_growth_chart.html as inline SVG (no script, no library)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from datetime import datetime, timedelta

from ledger import store

from . import i18n


@dataclass(frozen=True)
class Tick:
    """An axis mark: where it sits, its label, and how the label is anchored."""

    pos: float
    label: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Point:
    """One checkpoint on the chart."""

    x: float
    y: float
    size: int
    at: datetime


class XY(Protocol):
    """A point as a line chart draws it (each chart's own points carry more)."""

    x: float
    y: float


@dataclass(frozen=True)
class Chart:
    """A line-and-area chart of values against time, in the SVG's own coordinates: the ledger's
    growth here, hours per week in api/dashboard_charts."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: Sequence[XY]
    x_ticks: list[Tick]
    y_ticks: list[Tick]

    @property
    def line(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def area(self) -> str:
        first, last = self.points[0], self.points[-1]
        return f"{first.x:.1f},{self.bottom:.1f} {self.line} {last.x:.1f},{self.bottom:.1f}"


WIDTH, HEIGHT = 360, 240
FONT = 17  # the largest label size site.css uses in the chart, for the room the labels need


def _nice_step(top: int, ticks: int = 4) -> int:
    """A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals up to `top`."""
    raw = max(top / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def growth_chart(checkpoints: Sequence[store.StoredCheckpoint], lang: str) -> Chart:
    """Lay out `checkpoints` (any order, at least one) as size against signing time."""
    cps = sorted(checkpoints, key=lambda cp: (cp.signed_at, cp.size))
    step = _nice_step(max(cps[-1].size, 1))
    y_max = step * max(math.ceil(cps[-1].size / step), 1)
    y_labels = [i18n.format_count(v) for v in range(0, y_max + 1, step)]
    left = max(40.0, 12 + 0.6 * FONT * max(len(s) for s in y_labels))
    right, top, bottom = WIDTH - 16.0, 34.0, HEIGHT - 58.0

    t0, t1 = cps[0].signed_at, cps[-1].signed_at
    span = (t1 - t0).total_seconds()

    def x_of(at: datetime) -> float:
        if span == 0:
            return (left + right) / 2
        return left + (right - left) * (at - t0).total_seconds() / span

    def y_of(size: int) -> float:
        return bottom - (bottom - top) * size / y_max

    y_ticks = [Tick(y_of(v), label, "end") for v, label in zip(range(0, y_max + 1, step), y_labels)]
    points = [Point(x_of(cp.signed_at), y_of(cp.size), cp.size, cp.signed_at) for cp in cps]
    return Chart(WIDTH, HEIGHT, left, right, top, bottom, points, _time_ticks(t0, t1, span, x_of, lang), y_ticks)


def _label_width(label: str) -> float:
    """About how wide `label` is drawn at FONT: CJK characters are square, the rest about 0.6 of that."""
    return sum(FONT if ord(c) >= 0x2E80 else 0.6 * FONT for c in label)


def _time_ticks(t0: datetime, t1: datetime, span: float, x_of: Callable[[datetime], float], lang: str) -> list[Tick]:
    """Dates (times of day, within two days) at both ends of the time axis, and in the middle when
    that label fits between them."""
    if span == 0:
        return [Tick(x_of(t0), i18n.format_day(lang, t0, with_year=True))]
    with_year = t0.year != t1.year or span > 300 * 86400

    def label(at: datetime) -> str:
        return at.strftime("%H:%M") if span < 2 * 86400 else i18n.format_day(lang, at, with_year=with_year)

    start, end = Tick(x_of(t0), label(t0), "start"), Tick(x_of(t1), label(t1), "end")
    middle_at = t0 + timedelta(seconds=span / 2)
    middle = Tick(x_of(middle_at), label(middle_at))
    half, gap = _label_width(middle.label) / 2, FONT / 2
    fits = (
        start.pos + _label_width(start.label) + gap <= middle.pos - half
        and middle.pos + half + gap <= end.pos - _label_width(end.label)
    )
    return [start, middle, end] if fits and middle.label not in (start.label, end.label) else [start, end]
