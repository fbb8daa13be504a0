"""Charts drawn by pygal on the server: static SVG placed inline in the page, no script to
load and nothing fetched from elsewhere."""

from __future__ import annotations

import math
import re
from datetime import date

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)

# The stylesheet's green, red and a neutral grey: met, breached, in progress.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#dde1e8",
    opacity=".9",
    opacity_hover="1",
    colors=("#067647", "#b42318", "#98a2b3"),
    value_colors=("#fff", "#fff", "#1d2330"),
    guide_stroke_color="#dde1e8",
    major_guide_stroke_color="#dde1e8",
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    title_font_size=15,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
)


def month_label(month: str) -> str:
    """'2026-11' → 'Nov 2026'."""
    year, number = (int(part) for part in month.split("-"))
    return f"{date(year, number, 1):%b %Y}"


def _y_labels(top: int) -> list[int]:
    """Whole-number ticks, at most about eight of them."""
    step = max(1, math.ceil(top / 8)) if top else 1
    return list(range(0, max(top, 1) + step, step))


def stacked_months(title: str, months: list[str], series: dict[str, list[int]]) -> SafeString:
    """A stacked bar per month of met / breached / in progress, as an inline <svg>."""
    chart = pygal.StackedBar(
        style=STYLE,
        title=title,
        width=720,
        height=300,
        js=[],  # pygal's tooltips script would come from a CDN: none
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        print_values=True,
        print_zeroes=False,
        x_label_rotation=0 if len(months) <= 12 else 45,
        margin=12,
    )
    chart.x_labels = [month_label(m) for m in months]
    top = max((sum(values) for values in zip(*series.values(), strict=True)), default=0)
    chart.y_labels = _y_labels(top)
    for name, values in series.items():
        chart.add(name, [v or None for v in values])
    # pygal builds the SVG with ElementTree from our own month names and counts: it escapes.
    # Even with js=[] it writes an inline <script> (its config object), which the
    # Content-Security-Policy refuses: the chart needs none of it, so it goes.
    return mark_safe(INLINE_SCRIPT.sub("", chart.render(is_unicode=True)))
