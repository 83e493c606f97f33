"""Geometry of the small server-side SVG charts of the results pages (no JavaScript).

Each function returns plain numbers in SVG user units; the templates in
``templates/results/_charts.html`` only draw them. Colours come from CSS classes (the
Content Security Policy forbids inline style attributes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

LABEL_W = 150  # room for a row's label, left of the plot
PLOT_W = 400
PAD = 12


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    low: int
    high: int


@dataclass(frozen=True)
class HistogramRow:
    label: str
    y: float  # top of the row
    bars: list[Bar]
    mean_x: float | None
    baseline: float
    sheets: int


@dataclass(frozen=True)
class Histograms:
    """Per judge, how many sheet totals fell in each 5-point band of 0–100."""

    width: float
    height: float
    rows: list[HistogramRow]
    ticks: list[Tick]
    axis_y: float
    plot_left: float = LABEL_W
    plot_right: float = LABEL_W + PLOT_W


def _x(value: float, lo: float = 0.0, hi: float = 100.0) -> float:
    value = min(max(value, lo), hi)
    return LABEL_W + (value - lo) / (hi - lo) * PLOT_W


def judge_histograms(per_judge: Sequence[tuple[str, Sequence[float]]], bin_size: int = 5):
    """``per_judge``: (label, that judge's sheet totals in the stage)."""
    row_h, bar_h = 44, 32
    bins = math.ceil(100 / bin_size)
    counts_per_judge = []
    for label, totals in per_judge:
        counts = [0] * bins
        for t in totals:
            counts[min(int(max(t, 0.0) // bin_size), bins - 1)] += 1
        counts_per_judge.append((label, totals, counts))
    top = max((max(c) for _l, _t, c in counts_per_judge if c), default=1) or 1
    rows = []
    for i, (label, totals, counts) in enumerate(counts_per_judge):
        y = PAD + i * row_h
        base = y + bar_h
        bars = []
        for b, n in enumerate(counts):
            if not n:
                continue
            h = n / top * bar_h
            x0 = _x(b * bin_size)
            bars.append(
                Bar(
                    x0 + 1,
                    base - h,
                    PLOT_W * bin_size / 100 - 2,
                    h,
                    n,
                    b * bin_size,
                    min((b + 1) * bin_size, 100),
                )
            )
        mean = sum(totals) / len(totals) if totals else None
        rows.append(
            HistogramRow(label, y, bars, _x(mean) if mean is not None else None, base, len(totals))
        )
    axis_y = PAD + len(rows) * row_h
    ticks = [Tick(_x(v), str(v)) for v in (0, 25, 50, 75, 100)]
    return Histograms(LABEL_W + PLOT_W + PAD, axis_y + 24, rows, ticks, axis_y)


@dataclass(frozen=True)
class Whisker:
    stage: int  # stage position, for the CSS class
    y: float
    x1: float
    x2: float
    score_x: float | None


@dataclass(frozen=True)
class SpreadRow:
    label: str
    y: float
    total_x: float | None
    whiskers: list[Whisker] = field(default_factory=list)


@dataclass(frozen=True)
class Spread:
    """Per entry: the final total (a diamond) and, per stage, the range of the judges'
    sheet totals with the entry's stage score (a dot)."""

    width: float
    height: float
    rows: list[SpreadRow]
    ticks: list[Tick]
    axis_y: float
    low: float
    plot_left: float = LABEL_W
    plot_right: float = LABEL_W + PLOT_W


def entry_spread(rows: Sequence[tuple[str, float | None, Sequence[tuple[float | None, list]]]]):
    """``rows``: (label, total, per stage (stage score, judges' sheet totals))."""
    values = [
        v
        for _label, total, stages in rows
        for v in [total, *(s for s, _t in stages), *(t for _s, ts in stages for t in ts)]
        if v is not None
    ]
    low = max(0.0, math.floor(min(values, default=0.0) / 10) * 10) if values else 0.0
    low = min(low, 90.0)
    row_h = 14 + 8 * max((len(s) for _l, _t, s in rows), default=1)
    out = []
    for i, (label, total, stages) in enumerate(rows):
        y = PAD + i * row_h
        whiskers = []
        for si, (score, totals) in enumerate(stages):
            if not totals:
                continue
            wy = y + 6 + si * 8
            whiskers.append(
                Whisker(
                    si,
                    wy,
                    _x(min(totals), low),
                    _x(max(totals), low),
                    _x(score, low) if score is not None else None,
                )
            )
        out.append(
            SpreadRow(label, y + row_h / 2, _x(total, low) if total is not None else None, whiskers)
        )
    axis_y = PAD + len(out) * row_h
    step = 10 if 100 - low > 40 else 5
    ticks = [Tick(_x(v, low), str(int(v))) for v in range(int(low), 101, step)]
    return Spread(LABEL_W + PLOT_W + PAD, axis_y + 24, out, ticks, axis_y, low)


@dataclass(frozen=True)
class Lean:
    """A bar from the centre: a judge's leniency in points (±``span`` fills the width)."""

    width: float
    x: float
    bar_width: float
    positive: bool


def leniency_bar(value: float | None, span: float = 20.0, width: float = 120.0) -> Lean | None:
    if value is None:
        return None
    half = width / 2
    length = min(abs(value), span) / span * half
    return Lean(width, half if value >= 0 else half - length, length, value >= 0)
