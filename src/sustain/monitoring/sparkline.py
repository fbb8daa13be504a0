"""Sparklines: a small line of numbers as inline SVG drawn on the server, no script.

pygal draws one too (`render_sparkline`), but each carries its own style sheet of about 13 KB:
a list of 200 heartbeats would weigh 2.6 MB. This one is a `<polyline>` per unbroken run of
values (None is a gap: no run, no ping, no answer), a dot for a lone value, styled by the
page's stylesheet (class `spark`), with a `<title>` and an aria-label for screen readers. Only
numbers and our own escaped title go into it, so it is safe inline under the CSP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 120
HEIGHT = 24
PAD = 2.0
POINTS_MAX = 500  # a longer series is cut to its last values


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for index, value in enumerate(values):
        if value is None or not math.isfinite(value):
            if current:
                runs.append(current)
            current = []
        else:
            current.append((index, float(value)))
    if current:
        runs.append(current)
    return runs


def sparkline(
    values: Sequence[float | None], *, title: str = "", width: int = WIDTH, height: int = HEIGHT
) -> SafeString:
    """An inline <svg> of `values` (oldest first), scaled from 0 (or the least value, if
    negative) to the greatest; an empty string when there is no value at all."""
    values = list(values)[-POINTS_MAX:]
    runs = _runs(values)
    if not runs:
        return mark_safe("")
    numbers = [v for run in runs for _, v in run]
    low, high = min(0.0, *numbers), max(numbers)
    spread = (high - low) or 1.0
    step = (width - 2 * PAD) / max(len(values) - 1, 1)

    def point(index: int, value: float) -> str:
        x = PAD + index * step
        y = height - PAD - (value - low) / spread * (height - 2 * PAD)
        return f"{x:.1f},{y:.1f}"

    shapes = []
    for run in runs:
        if len(run) == 1:
            x, y = point(*run[0]).split(",")
            shapes.append(f'<circle cx="{x}" cy="{y}" r="1.5"/>')
        else:
            shapes.append(f'<polyline points="{" ".join(point(i, v) for i, v in run)}"/>')
    return format_html(
        '<svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-label="{t}"><title>{t}</title>{s}</svg>',
        w=width,
        h=height,
        t=title,
        s=mark_safe("".join(shapes)),
    )
