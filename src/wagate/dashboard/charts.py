"""Server-side SVG charts for the analytics page: no JavaScript, no CDN, the same on every screen.

The SVG scales with its container (``viewBox``); text is escaped; colours come from CSS
classes (``static/dashboard.css``) so the dark theme and print work. Each chart has a
``<title>`` and every point or bar a ``<title>`` tooltip with its value, for screen readers too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 220
LEFT = 48
RIGHT = 12
TOP = 16
BOTTOM = 36


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    css: str
    values: Sequence[float | None]


#: Grid steps, times a power of ten: steps a reader can add up at a glance.
STEPS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def axis(value: float, *, integer: bool = False) -> tuple[float, float]:
    """``(top, step)`` of an axis showing ``value`` with at most four grid steps.

    ``integer`` keeps steps whole (message counts), so no axis reads "1.25 messages".
    """
    if value <= 0:
        return 1.0, 0.25 if not integer else 1.0
    wanted = value / 4
    exponent = math.floor(math.log10(wanted))
    step = 0.0
    for power in (exponent, exponent + 1):
        for base in STEPS:
            candidate = base * 10**power
            if candidate >= wanted and (not integer or float(candidate).is_integer()):
                step = candidate
                break
        if step:
            break
    if integer:
        step = max(step, 1.0)
    return step * math.ceil(value / step - 1e-9), step


def _frame(
    title: str, labels: Sequence[str], top: float, step: float, fmt: Callable[[float], str], body: list[str]
) -> Markup:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(round(top / step) + 1):
        value = step * i
        y = TOP + plot_h - plot_h * value / top
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>')
    every = max(1, math.ceil(len(labels) / 10))
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + plot_w * (i + 0.5) / max(1, len(labels))
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.extend(body)
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str]) -> Markup:
    """Lines with a dot per value; a missing value (``None``) breaks the line."""
    values = [v for s in series for v in s.values if v is not None]
    top, step = axis(max(values, default=0.0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    body: list[str] = []
    count = max(1, len(labels))
    for s in series:
        points: list[tuple[float, float, float, str]] = []
        segments: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                segments.append([])
                continue
            x = LEFT + plot_w * (i + 0.5) / count
            y = TOP + plot_h - plot_h * value / top
            segments[-1].append((x, y))
            points.append((x, y, value, labels[i]))
        for segment in segments:
            if len(segment) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
                body.append(f'<polyline class="line {s.css}" points="{path}"/>')
        for x, y, value, label in points:
            body.append(
                f'<circle class="dot {s.css}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                f"<title>{escape(label)} · {escape(s.name)}: {escape(fmt(value))}</title></circle>"
            )
    return _frame(title, labels, top, step, fmt, body)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """Grouped bars, one group per label."""
    values = [v for s in series for v in s.values if v is not None]
    top, step = axis(max(values, default=0.0), integer=True)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    count = max(1, len(labels))
    group = plot_w / count
    bar = group * 0.8 / max(1, len(series))
    body: list[str] = []
    for n, s in enumerate(series):
        for i, value in enumerate(s.values):
            if not value:
                continue
            height = plot_h * value / top
            x = LEFT + group * i + group * 0.1 + bar * n
            y = TOP + plot_h - height
            body.append(
                f'<rect class="bar {s.css}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}">'
                f"<title>{escape(labels[i])} · {escape(s.name)}: {value:g}</title></rect>"
            )
    return _frame(title, labels, top, step, lambda v: f"{v:g}", body)


def legend(series: Sequence[Series]) -> Markup:
    items = "".join(f'<li><span class="swatch {s.css}"></span>{escape(s.name)}</li>' for s in series)
    return Markup(f'<ul class="legend">{items}</ul>')
